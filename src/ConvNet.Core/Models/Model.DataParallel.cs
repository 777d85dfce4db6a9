namespace ConvNet;

public partial class Model
{
    private DataParallelStep? _dataParallel;
    private ExecutionPlan? _dataParallelRejected;   // the plan whose graph cannot be split over the batch

    /// <summary>Data-parallel training steps when <see cref="Layer.Threads"/> ≥ 2 (default true; tests and benchmarks compare
    /// with the layer-parallel path). See <see cref="DataParallelStep"/> for the graphs that take it.</summary>
    internal bool EnableDataParallel { get; set; } = true;

    /// <summary>The data-parallel step for a batch of <paramref name="rows"/>, or null for the layer-parallel path (one thread,
    /// one row, an unsupported graph, or the plan's step clock is set for per-layer profiling).</summary>
    internal DataParallelStep? DataParallelFor(int rows)
    {
        if (!EnableDataParallel || Threads < 2 || rows < 2) return null;
        var plan = Plan();
        if (plan.StepClock is not null || ReferenceEquals(plan, _dataParallelRejected)) return null;
        if (_dataParallel is { } dp && dp.IsCurrentFor(plan, Threads)) return dp;
        _dataParallel = DataParallelStep.Create(plan, _tensors, _inputTensor!, _outputTensor!, _enableFusion, Threads);
        if (_dataParallel is null) _dataParallelRejected = plan;
        return _dataParallel;
    }
}
