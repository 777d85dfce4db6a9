using System.Numerics.Tensors;
using ConvNet.Threading;

namespace ConvNet;

/// <summary>
/// A training step run data-parallel: thread k runs the forward pass, the loss gradient and the backward pass of the whole
/// network on its contiguous share of the batch (<see cref="ReplicaPlan"/> k, single-threaded), with one barrier at the end
/// instead of a fork-join per layer. Replica 0 adds its parameter gradients into the master's; after the barrier the
/// others are added in replica order (0 + 1 + 2 …), so gradients are deterministic for a given thread count.
/// The loss gradient of a share is scaled to the mean over the whole batch (rows/N), as the per-sample losses are independent.
/// Graphs with batch-coupled or random layers in training mode (BatchNormalization, dropout, augmentation) and nested models
/// are not split: <see cref="Create"/> returns null and the model keeps its layer-parallel path.
/// </summary>
internal sealed class DataParallelStep
{
    private readonly ReplicaPlan[] _replicas;
    private readonly Parameter[] _master;        // the master's parameters, in the order of each replica's OwnParameters
    private readonly long[] _paramStart;         // prefix sums of their lengths (last = total)
    private readonly Action<int, int, int> _pass, _reduce;
    private Tensor? _x;
    private Loss? _loss;
    private int _n, _parts, _outputs, _width;
    private TargetKind _kind;
    private int[] _labels = [];
    private float[] _values = [];

    private DataParallelStep(ExecutionPlan master, ReplicaPlan[] replicas, Parameter[] masterParameters)
    {
        Master = master;
        _replicas = replicas;
        _master = masterParameters;
        _paramStart = new long[masterParameters.Length + 1];
        for (int i = 0; i < masterParameters.Length; i++) _paramStart[i + 1] = _paramStart[i] + masterParameters[i].Value.Length;
        _pass = Pass;
        _reduce = Reduce;
    }

    /// <summary>The master plan the replicas were cloned from.</summary>
    internal ExecutionPlan Master { get; }

    /// <summary>Number of replicas (the model's thread count when created).</summary>
    internal int Threads => _replicas.Length;

    /// <summary>The replicas (for tests and profiling).</summary>
    internal IReadOnlyList<ReplicaPlan> Replicas => _replicas;

    /// <summary>(N, outputs) logits of the last step, gathered from the replicas (for the metrics).</summary>
    internal Tensor? Logits { get; private set; }

    /// <summary>True if every call of the graph can be split over the batch (see <see cref="ReplicaPlan.Supports"/>).</summary>
    internal static bool Supports(IReadOnlyList<SymbolicTensor> tensors, SymbolicTensor input)
    {
        foreach (var t in tensors)
            if (!ReferenceEquals(t, input) && !ReplicaPlan.Supports(t.Layer, t.Training)) return false;
        return true;
    }

    /// <summary>Clones the graph into <paramref name="threads"/> replicas; null if the graph is not supported.</summary>
    internal static DataParallelStep? Create(ExecutionPlan master, IReadOnlyList<SymbolicTensor> tensors, SymbolicTensor input, SymbolicTensor output,
        bool fusion, int threads)
    {
        if (threads < 2 || !Supports(tensors, input)) return null;
        var replicas = new ReplicaPlan[threads];
        for (int k = 0; k < threads; k++)
        {
            var replica = ReplicaPlan.Create(tensors, input, output, fusion, shareGradients: k == 0);
            if (replica is null) return null;
            replicas[k] = replica;
        }
        var masterParameters = tensors.SelectMany(t => t.Layer.Parameters).ToArray();
        return new DataParallelStep(master, replicas, masterParameters);
    }

    /// <summary>True if the replicas still match <paramref name="plan"/>, the thread count and the master's parameter tensors.</summary>
    internal bool IsCurrentFor(ExecutionPlan plan, int threads)
    {
        if (!ReferenceEquals(plan, Master) || threads != _replicas.Length) return false;
        foreach (var r in _replicas) if (!r.IsCurrent()) return false;
        return true;
    }

    /// <summary>
    /// Forward, loss and backward of batch <paramref name="x"/> on min(Threads, N) threads. Returns the sum of the per-sample
    /// losses; <see cref="Logits"/> holds the outputs. The parameter gradients are not complete until <see cref="ReduceGradients"/>
    /// (or dropped by <see cref="DiscardGradients"/>). A share whose loss is not finite skips its backward.
    /// </summary>
    internal double Run(Tensor x, TargetBatch targets, Loss loss, int outputs)
    {
        _n = x.Shape[0];
        _parts = Math.Min(_replicas.Length, _n);
        _x = x; _loss = loss; _outputs = outputs;
        CopyTargets(targets);
        if (Logits is null || Logits.Shape[0] != _n || Logits.Shape[1] != outputs) Logits = new Tensor(_n, outputs);
        foreach (var r in _replicas) r.SyncTrainable();
        try { WorkerPool.ForThreads(_replicas.Length).Run(_parts, _pass); }
        catch
        {
            DiscardGradients();
            throw;
        }
        finally { _x = null; _loss = null; }
        double sum = 0;
        for (int k = 0; k < _parts; k++) sum += _replicas[k].Loss;   // replica order: deterministic
        return sum;
    }

    private void CopyTargets(TargetBatch targets)
    {
        _kind = targets.Kind;
        _width = targets.Width;
        if (targets.Kind == TargetKind.Labels)
        {
            if (_labels.Length < targets.Labels.Length) _labels = new int[targets.Labels.Length];
            targets.Labels.CopyTo(_labels);
        }
        else
        {
            if (_values.Length < targets.Values.Length) _values = new float[targets.Values.Length];
            targets.Values.CopyTo(_values);
        }
    }

    // Replica `part` on rows [s, s + count): forward, loss gradient (scaled to the whole batch's mean), backward.
    private void Pass(int part, int _, int __)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        _replicas[part].NoteThread();
        try { PassCore(part); }
        finally { _replicas[part].AllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - allocated; }
    }

    private void PassCore(int part)
    {
        int s = WorkerPool.RangeStart(_n, _parts, part), count = WorkerPool.RangeStart(_n, _parts, part + 1) - s;
        var r = _replicas[part];
        var y = r.Plan.Forward(r.InputRows(_x!, s, count), training: true, record: true);
        var g = r.LossGradient(y.Shape);
        var targets = _kind == TargetKind.Labels
            ? TargetBatch.FromLabels(_labels.AsSpan(s, count))
            : TargetBatch.FromValues(_values.AsSpan(s * _width, count * _width), _width);
        r.Loss = _loss!.Compute(count, _outputs, y.Span, targets, g.Span, r.Scratch(y.Length));
        y.Span.CopyTo(Logits!.Span.Slice(s * _outputs, count * _outputs));
        if (!double.IsFinite(r.Loss)) return;   // the step is rejected after the barrier
        if (count != _n) TensorPrimitives.Multiply(g.Span, (float)count / _n, g.Span);   // d(mean over count)/dy → d(mean over N)/dy
        r.Plan.PrepareBackward(inputNeedsGradient: false);
        if (r.Plan.AnyGradient) r.Plan.Backward(g);
    }

    /// <summary>Adds the gradients of replicas 1, 2, … (in that order) into the master's and zeroes them.</summary>
    internal void ReduceGradients()
    {
        long total = _paramStart[^1];
        if (_parts <= 1 || total == 0) return;
        if (total < 1 << 15) Reduce(0, 0, (int)total);
        else WorkerPool.ForThreads(_replicas.Length).Run((int)total, _reduce);
    }

    // Elements [s, s + count) of the concatenated parameters.
    private void Reduce(int part, int s, int count)
    {
        long end = (long)s + count;
        int i = Array.BinarySearch(_paramStart, s);
        if (i < 0) i = ~i - 1;
        for (; i < _master.Length && _paramStart[i] < end; i++)
        {
            int a = (int)Math.Max(0, s - _paramStart[i]), b = (int)Math.Min(_paramStart[i + 1], end) - (int)_paramStart[i];
            if (b <= a) continue;
            var dst = _master[i].Grad.Span.Slice(a, b - a);
            for (int k = 1; k < _parts; k++)
            {
                var src = _replicas[k].OwnParameters[i].Grad.Span.Slice(a, b - a);
                TensorPrimitives.Add(dst, src, dst);
                src.Clear();
            }
        }
    }

    /// <summary>Zeroes the master's and the replicas' gradients (after a rejected step: nothing is updated).</summary>
    internal void DiscardGradients()
    {
        foreach (var p in _master) p.Grad.Span.Clear();
        for (int k = 1; k < _replicas.Length; k++)
            foreach (var p in _replicas[k].OwnParameters) p.Grad.Span.Clear();
    }
}
