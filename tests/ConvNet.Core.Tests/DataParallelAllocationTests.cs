using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// Training steps allocate nothing after warm-up on every thread: the calling thread (counted as in
/// <see cref="AllocationTests"/>) and the threads that ran the data-parallel replicas (counted by the replicas).
/// </summary>
[Collection("Allocation")]
public class DataParallelAllocationTests
{
    private static Model Mandarin() => Applications.MandarinCnn();

    // ResNet-18's basic blocks without BatchNormalization (so the step is split): a stem, identity and projection blocks.
    private static Model ResidualStack()
    {
        var inputs = new Input(16, 16, 3);
        var x = new MaxPooling2D().Apply(new Conv2D(8, 3, padding: Padding.Same, activation: Activation.Relu).Apply(inputs));
        x = Applications.ResidualBlock(Applications.ResidualBlock(x, 8), 8);
        x = Applications.ResidualBlock(Applications.ResidualBlock(x, 16, strides: 2), 16);
        return new Model(inputs, new Dense(10).Apply(new GlobalAveragePooling2D().Apply(x)));
    }

    private static int ThreadsThatRan(DataParallelStep dp) => dp.Replicas.SelectMany(r => r.ThreadIds.ToArray()).Distinct().Count();

    private static Model ResNet18() => Applications.ResNet18(inputShape: [32, 32, 3], classes: 10, classifierActivation: Activation.None);

    [Theory]
    [InlineData("mandarin", 2, 32, true)]
    [InlineData("mandarin", 3, 29, true)]
    [InlineData("residual", 2, 7, true)]
    [InlineData("resnet18", 2, 4, false)]   // BatchNormalization in training mode: the layer-parallel path
    public void TrainingStepAllocatesZeroBytesOnEveryThread(string kind, int threads, int n, bool dataParallel)
    {
        var model = kind switch { "mandarin" => Mandarin(), "residual" => ResidualStack(), _ => ResNet18() };
        model.Seed = 2;
        model.Threads = threads;
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy(), new SparseTopKCategoricalAccuracy(3));
        var rng = new Rng(3);
        var x = new Tensor([n, .. model.InputShape!]);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 1);
        var y = new int[n];
        for (int i = 0; i < y.Length; i++) y[i] = i % 10;
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);   // warm-up: replicas, workspaces, optimiser state, JIT
        var dp = model.DataParallelFor(n);
        Assert.Equal(dataParallel, dp is not null);
        // Threads claim replicas, so which thread runs which varies; per-thread kernel scratch (sized by the layers) grows the
        // first time a thread runs any replica. Warm up until every pool thread has run one (bounded: workers wake every step).
        for (int i = 0; i < 2000 && dp is not null && ThreadsThatRan(dp) < threads; i++) model.TrainOnBatch(x, y);
        Assert.True(dp is null || ThreadsThatRan(dp) >= threads, $"{kind}: after the warm-up not all {threads} threads had run a replica");
        long replicasBefore = dp?.Replicas.Sum(r => r.AllocatedBytes) ?? 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 4; i++) model.TrainOnBatch(x, y);
        long caller = GC.GetAllocatedBytesForCurrentThread() - before;
        long replicas = (dp?.Replicas.Sum(r => r.AllocatedBytes) ?? 0) - replicasBefore;
        Assert.True(caller == 0, $"{kind}: the calling thread allocated {caller} bytes in 4 steps");
        Assert.True(replicas == 0, $"{kind}: the replica threads allocated {replicas} bytes in 4 steps");
    }
}
