namespace ConvNet;

/// <summary>
/// One thread's copy of a model's graph for data-parallel training: every layer is cloned from its configuration and
/// reads the master's parameter values, but keeps its own activations, workspaces and (except replica 0) its own gradient
/// buffers. Its layers run single-threaded (<see cref="Layer.Threads"/> = 1), so a replica never forks.
/// </summary>
internal sealed class ReplicaPlan
{
    private readonly Layer[] _masters;     // the master's layers, in the order of _clones
    private readonly Layer[] _clones;
    private Tensor? _input;                // view on the rows of the batch this replica trains on
    private Tensor? _lossGrad;             // (rows, outputs) dL/d(logits) of this replica's rows
    private float[] _scratch = [];         // loss scratch, (rows, outputs)

    private ReplicaPlan(Layer[] masters, Layer[] clones, ExecutionPlan plan)
    {
        _masters = masters; _clones = clones; Plan = plan;
    }

    /// <summary>The replica's execution plan (same steps and fusion as the master's).</summary>
    internal ExecutionPlan Plan { get; }

    /// <summary>Bytes allocated by the thread that ran this replica's passes, summed over the passes (for allocation tests:
    /// the other threads' allocations are not seen by <see cref="GC.GetAllocatedBytesForCurrentThread"/> on the caller).</summary>
    internal long AllocatedBytes { get; set; }

    // Managed ids of the (at most 8) threads that have run this replica: per-thread kernel scratch (sized by the layers, not
    // the batch share) grows the first time a thread runs a replica, so allocation tests warm up until every pool thread has.
    private readonly int[] _threads = new int[8];

    /// <summary>Number of distinct threads that have run this replica (up to 8).</summary>
    internal int ThreadsSeen { get; private set; }

    /// <summary>Managed ids of the threads that have run this replica.</summary>
    internal ReadOnlySpan<int> ThreadIds => _threads.AsSpan(0, ThreadsSeen);

    /// <summary>Records the current thread as one that ran this replica (no allocation).</summary>
    internal void NoteThread()
    {
        int id = Environment.CurrentManagedThreadId;
        for (int i = 0; i < ThreadsSeen; i++) if (_threads[i] == id) return;
        if (ThreadsSeen < _threads.Length) _threads[ThreadsSeen++] = id;
    }

    /// <summary>The sum of per-sample losses of the last pass.</summary>
    internal double Loss { get; set; }

    /// <summary>Gradient buffers of the replica's parameters, in the master's layer order (empty for replica 0, which adds
    /// into the master's).</summary>
    internal Parameter[] OwnParameters { get; private set; } = [];

    /// <summary>True if the layer can be cloned from its configuration and runs per sample in a training call with the
    /// given override (batch statistics and random streams couple the samples of a batch, so they cannot be split).</summary>
    internal static bool Supports(Layer layer, bool? training)
    {
        if (layer is Model) return false;
        bool coupled = layer is BatchNormalization or DropoutBase or RandomPreprocessingLayer;
        return !coupled || training == false;
    }

    /// <summary>Clones the graph <paramref name="tensors"/> (topological, the input first). Replica 0
    /// (<paramref name="shareGradients"/>) adds its gradients into the master's parameters. Null if a layer cannot be cloned.</summary>
    internal static ReplicaPlan? Create(IReadOnlyList<SymbolicTensor> tensors, SymbolicTensor input, SymbolicTensor output, bool fusion, bool shareGradients)
    {
        var map = new Dictionary<SymbolicTensor, SymbolicTensor>(ReferenceEqualityComparer.Instance);
        var masters = new List<Layer>();
        var clones = new List<Layer>();
        var replicaTensors = new List<SymbolicTensor>();
        foreach (var t in tensors)
        {
            var clone = Clone(t.Layer);
            if (clone is null) return null;
            var inputs = t.Inputs.Select(i => map[i]).ToArray();
            if (!ReferenceEquals(t, input)) clone.BuildFor(t.Inputs.Select(i => i.Shape).ToArray());
            clone.ShareParametersOf(t.Layer, shareGradients);
            clone.Threads = 1;
            clone.Trainable = t.Layer.Trainable;
            var rt = new SymbolicTensor(clone, inputs, t.Shape.ToArray(), t.Training);
            map[t] = rt;
            replicaTensors.Add(rt);
            masters.Add(t.Layer);
            clones.Add(clone);
        }
        var replica = new ReplicaPlan([.. masters], [.. clones], new ExecutionPlan(replicaTensors, map[input], map[output], fusion));
        if (!shareGradients) replica.OwnParameters = clones.SelectMany(c => c.Parameters).ToArray();
        return replica;
    }

    private static Layer? Clone(Layer layer)
    {
        var config = new Dictionary<string, string>();
        try
        {
            layer.WriteConfig(config);
            var clone = LayerFactory.Create(layer.TypeName, layer.Name, config);
            return clone.GetType() == layer.GetType() ? clone : null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException) { return null; }
    }

    /// <summary>True while every clone still reads its master's current parameter tensors (re-seeding replaces them).</summary>
    internal bool IsCurrent()
    {
        for (int l = 0; l < _masters.Length; l++)
        {
            var mp = _masters[l].Parameters;
            var cp = _clones[l].Parameters;
            if (mp.Count != cp.Count) return false;
            for (int i = 0; i < mp.Count; i++) if (!ReferenceEquals(mp[i].Value, cp[i].Value)) return false;
        }
        return true;
    }

    /// <summary>Copies the masters' <see cref="Layer.Trainable"/> flags (freezing takes effect at the next step).</summary>
    internal void SyncTrainable()
    {
        for (int l = 0; l < _masters.Length; l++)
            if (_clones[l].Trainable != _masters[l].Trainable) _clones[l].Trainable = _masters[l].Trainable;
    }

    /// <summary>A view on rows [start, start + count) of <paramref name="x"/> (cached: no allocation while they stay the same).</summary>
    internal Tensor InputRows(Tensor x, int start, int count)
    {
        int per = x.Length / x.Shape[0];
        int offset = x.Offset + start * per;
        var v = _input;
        if (v is null || v.Array != x.Array || v.Offset != offset || v.Shape[0] != count || !SameSample(v.Shape, x.Shape))
            _input = v = new Tensor(x.Array, offset, x.Shape.WithBatch(count));
        return v;
    }

    private static bool SameSample(Shape a, Shape b)
    {
        if (a.Rank != b.Rank) return false;
        for (int i = 1; i < a.Rank; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /// <summary>The zeroed (rows, outputs) loss-gradient buffer.</summary>
    internal Tensor LossGradient(Shape shape)
    {
        if (_lossGrad is null || _lossGrad.Shape != shape) _lossGrad = new Tensor(shape);
        _lossGrad.Span.Clear();
        return _lossGrad;
    }

    /// <summary>Loss scratch of at least <paramref name="length"/> floats.</summary>
    internal Span<float> Scratch(int length)
    {
        if (_scratch.Length < length) _scratch = new float[length];
        return _scratch.AsSpan(0, length);
    }
}
