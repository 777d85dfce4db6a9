using ConvNet;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>A training step allocates nothing after warm-up (counting bytes, not timing).</summary>
[Collection("Allocation")]
public class AllocationTests
{
    private static Sequential SmallLectureLikeModel(int threads)
    {
        var m = new Sequential(
            new Input(16, 16, 1), new Rescaling(1f / 255),
            new Conv2D(8, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu), new AveragePooling2D(),
            new Flatten(), new Dense(32, Activation.Relu), new Dense(5)) { Threads = threads };
        m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy(), new SparseTopKCategoricalAccuracy(3));
        return m;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TrainingStepAllocatesZeroBytesAfterWarmUp(int threads)
    {
        var model = SmallLectureLikeModel(threads);
        var rng = new Rng(3);
        var x = new Tensor(8, 16, 16, 1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 255);
        var y = new int[8];
        for (int i = 0; i < y.Length; i++) y[i] = i % 5;
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);   // warm-up: workspaces, optimiser state, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void InferenceAllocatesNothingButTheResultAfterWarmUp()
    {
        var model = SmallLectureLikeModel(1);
        var x = new Tensor(4, 16, 16, 1);
        model.Call(x);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.Call(x);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>A residual block (fan-out, Add) and an Inception module (four branches, Concatenate) with a head.</summary>
    private static Model GraphModel(int threads, bool inception)
    {
        var inputs = new Input(12, 12, 3);
        var x = inception
            ? Applications.InceptionModule(inputs, 4, 3, 6, 2, 3, 2)
            : Applications.ResidualBlock(Applications.ResidualBlock(inputs, 3), 6, strides: 2);
        x = new MaxPooling2D().Apply(new Conv2D(5, 3, padding: Padding.Same, activation: Activation.Relu).Apply(x));   // a fused pair too
        var m = new Model(inputs, new Dense(4).Apply(new Flatten().Apply(x))) { Threads = threads, Seed = 2 };
        m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        return m;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void GraphTrainingStepAllocatesZeroBytesAfterWarmUp(int threads, bool inception)
    {
        var model = GraphModel(threads, inception);
        Assert.Contains(model.Plan().Steps, s => s.LayerCount == 2);
        var rng = new Rng(4);
        var x = new Tensor(6, 12, 12, 3);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(-1, 1);
        var y = new int[6];
        for (int i = 0; i < y.Length; i++) y[i] = i % 4;
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        long training = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(training == 0, $"training steps allocated {training} bytes");

        model.Call(x);   // inference (liveness buffers): warm-up, then nothing
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.Call(x);
        long inference = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(inference == 0, $"inference calls allocated {inference} bytes");
    }
}
