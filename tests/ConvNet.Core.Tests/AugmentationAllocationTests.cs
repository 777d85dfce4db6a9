using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>A training step through every augmentation layer allocates nothing after warm-up (bytes counted on the calling
/// thread, as <see cref="AllocationTests"/> does), and neither does inference.</summary>
[Collection("Allocation")]
public class AugmentationAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TrainingStepAllocatesZeroBytesAfterWarmUp(int threads)
    {
        var model = new Sequential(
            new Input(12, 12, 3),
            new RandomFlip(),
            new RandomRotation(0.1),
            new RandomZoom(0.2, 0.1, interpolation: Interpolation.Nearest),
            new RandomTranslation(0.1, 0.1, FillMode.Constant),
            new RandomContrast(0.2),
            new RandomBrightness(0.1),
            new RandomCrop(10, 9),
            new Rescaling(1f / 255),
            new Conv2D(4, 3, activation: Activation.Relu),
            new Flatten(),
            new Dense(3)) { Threads = threads, Seed = 2 };
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var rng = new Rng(3);
        var x = new Tensor(6, 12, 12, 3);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 255);
        var y = new int[6];
        for (int i = 0; i < y.Length; i++) y[i] = i % 3;
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        model.Call(x);
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) model.Call(x);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
