using System.Text;

namespace ConvNet;

/// <summary>
/// Base of all layers. A layer owns its parameters, their gradients, its caches and its output
/// buffers; it is built (weights created) from the first input shape it sees, as in Keras.
/// <see cref="Forward"/> returns a tensor owned by the layer and overwritten by the next call.
/// </summary>
public abstract class Layer
{
    private readonly List<Parameter> _parameters = [];
    private int[]? _inputShape;
    private int[]? _outputShape;

    /// <summary>Creates a layer; <paramref name="name"/> null means a Keras-style default name is given when added to a model.</summary>
    protected Layer(string? name) => Name = name ?? "";

    /// <summary>The layer's name (Keras style: <c>conv2d</c>, <c>conv2d_1</c>, … unless set).</summary>
    public string Name { get; set; }

    /// <summary>False freezes the layer: its parameters are not updated and count as non-trainable.</summary>
    public bool Trainable { get; set; } = true;

    /// <summary>The Keras class name, e.g. <c>Conv2D</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>Seed for the weight initialiser (set by the model; default 0).</summary>
    public int Seed { get; set; }

    /// <summary>Per-sample input shape (without the batch dimension) once built.</summary>
    public IReadOnlyList<int>? InputShape => _inputShape;

    /// <summary>Per-sample output shape (without the batch dimension) once built.</summary>
    public IReadOnlyList<int>? OutputShape => _outputShape;

    /// <summary>True after <see cref="Build"/>.</summary>
    public bool IsBuilt => _outputShape is not null;

    /// <summary>The layer's parameters (empty for parameter-free layers).</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Number of scalar parameters.</summary>
    public long ParamCount => _parameters.Sum(p => (long)p.Value.Length);

    /// <summary>Number of scalar parameters that training updates: 0 when the layer is frozen, else those not marked non-trainable.</summary>
    public long TrainableParamCount => Trainable ? _parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length) : 0;

    /// <summary>Degree of parallelism for this layer's kernels (set by the model).</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>When false the backward pass skips the input gradient (first layer of a model).</summary>
    internal bool NeedsInputGradient { get; set; } = true;

    /// <summary>Display name used in error messages: <c>'conv2d' (Conv2D)</c>.</summary>
    protected string Display => Name.Length > 0 ? $"'{Name}' ({TypeName})" : TypeName;

    /// <summary>Infers the per-sample output shape for a per-sample input shape; throws <see cref="LayerShapeException"/> if it cannot accept it.</summary>
    public abstract int[] ComputeOutputShape(IReadOnlyList<int> inputShape);

    /// <summary>Builds the layer for a per-sample input shape (creates and initialises parameters). Idempotent for the same shape.</summary>
    public void Build(IReadOnlyList<int> inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (_inputShape is not null)
        {
            if (!_inputShape.SequenceEqual(inputShape))
                throw Error($"{Fmt(_inputShape)} (the shape it was built for)", Fmt(inputShape), "it was already built for another input shape");
            return;
        }
        if (inputShape.Count == 0 || inputShape.Any(d => d <= 0))
            throw Error("positive dimensions", Fmt(inputShape, batch: true), "every dimension of the input shape must be positive");
        var output = ComputeOutputShape(inputShape);
        _inputShape = inputShape.ToArray();
        _outputShape = output;
        CreateParameters(_inputShape, new Rng(Seed));
    }

    /// <summary>Re-creates and re-initialises the parameters with a new seed (before training; drops optimiser state tied to the old ones).</summary>
    internal void Reinitialize(int seed)
    {
        Seed = seed;
        if (_inputShape is null) return;
        _parameters.Clear();
        CreateParameters(_inputShape, new Rng(seed));
    }

    /// <summary>Shapes of the parameters this layer would create for a per-sample input shape (nothing is allocated).</summary>
    internal virtual int[][] ParameterShapes(IReadOnlyList<int> inputShape) => [];

    /// <summary>Creates parameters for the (validated) input shape. Default: none.</summary>
    protected virtual void CreateParameters(int[] inputShape, Rng rng) { }

    /// <summary>Registers a parameter (called from <see cref="CreateParameters"/>).</summary>
    protected Parameter AddParameter(string name, Tensor value, bool trainable = true)
    {
        var p = new Parameter(name, value, trainable);
        _parameters.Add(p);
        return p;
    }

    /// <summary>Forward pass for a batch (N, …); builds the layer on first use. The result is owned by the layer.</summary>
    /// <param name="x">The batch.</param>
    /// <param name="training">True during training (layers may cache what backward needs).</param>
    public Tensor Forward(Tensor x, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!IsBuilt)
        {
            if (x.Shape.Rank < 2)
                throw Error("(None, …)", x.Shape.ToString(), "an input needs a batch dimension first");
            Build(x.Shape.SampleDims());
        }
        CheckInput(x.Shape);
        return ForwardCore(x, training);
    }

    /// <summary>Backward pass: adds parameter gradients into <see cref="Parameter.Grad"/> and returns dL/dx (owned by the layer).</summary>
    /// <param name="dy">Gradient of the loss with respect to the last <see cref="Forward"/> output.</param>
    public Tensor Backward(Tensor dy)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (!IsBuilt) throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        if (!IsBatchOf(dy.Shape, _outputShape!))
            throw Error(Fmt(_outputShape!, batch: true), dy.Shape.ToString(), "the output gradient must have the output's shape");
        return BackwardCore(dy);
    }

    /// <summary>The layer-specific forward pass on a validated batch.</summary>
    protected abstract Tensor ForwardCore(Tensor x, bool training);

    /// <summary>The layer-specific backward pass on a validated output gradient.</summary>
    protected abstract Tensor BackwardCore(Tensor dy);

    /// <summary>Writes the layer's configuration (constructor arguments) as key/value pairs for model files.</summary>
    internal abstract void WriteConfig(IDictionary<string, string> config);

    /// <summary>True if <paramref name="s"/> is (n, sample…) for some n (no allocation).</summary>
    internal static bool IsBatchOf(Shape s, IReadOnlyList<int> sample)
    {
        if (s.Rank != sample.Count + 1) return false;
        for (int i = 0; i < sample.Count; i++) if (s[i + 1] != sample[i]) return false;
        return true;
    }

    private void CheckInput(Shape actual)
    {
        var exp = _inputShape!;
        if (IsBatchOf(actual, exp)) return;
        var act = actual.ToArray();
        if (act.Length == exp.Length && act.SequenceEqual(exp))
            throw Error(Fmt(exp, batch: true), actual.ToString(),
                $"the batch dimension is missing; add one, e.g. x.Reshape(1, {string.Join(", ", exp)}) or dataset.X.Gather([i]) instead of a single sample");
        if (act.Length != exp.Length + 1 || !act.AsSpan(1).SequenceEqual(exp))
            throw Error(Fmt(exp, batch: true), actual.ToString(), act.Length == exp.Length + 1 && act[^1] != exp[^1] && exp.Length == 3
                ? $"the input has {act[^1]} channels but the layer was built for {exp[^1]}"
                : "the shapes do not match");
    }

    /// <summary>A <see cref="LayerShapeException"/> naming this layer.</summary>
    protected LayerShapeException Error(string expected, string actual, string why) =>
        new(Name, expected, actual, $"Layer {Display}: expected input shape {expected}, got {actual}: {why}.");

    /// <summary>Formats a per-sample shape Keras style; with <paramref name="batch"/> a leading <c>None</c>.</summary>
    public static string Fmt(IReadOnlyList<int> shape, bool batch = false)
    {
        var sb = new StringBuilder("(");
        if (batch) sb.Append("None");
        for (int i = 0; i < shape.Count; i++)
        {
            if (batch || i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        if (!batch && shape.Count == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    /// <summary>Runs <paramref name="body"/>(part, start, count) over contiguous ordered ranges of [0, n), one per thread.
    /// Pass a delegate cached in a field: then the call allocates nothing.</summary>
    internal void ForBatch(int n, Action<int, int, int> body) => Threading.WorkerPool.ForThreads(Threads).Run(n, body);

    /// <summary>Number of ranges <see cref="ForBatch"/> uses for <paramref name="n"/> items.</summary>
    internal int Parts(int n) => Math.Max(1, Math.Min(Threads, n));

    /// <summary>Returns <paramref name="buffer"/> if it has <paramref name="shape"/>, else a new zeroed tensor (workspaces are reallocated only when the batch size changes).</summary>
    protected static Tensor Workspace(ref Tensor? buffer, Shape shape)
    {
        if (buffer is null || buffer.Shape != shape) buffer = new Tensor(shape);
        return buffer;
    }

    /// <summary>A (n, sample…) workspace, reused while n and the sample shape stay the same (no allocation then).</summary>
    protected static Tensor Workspace(ref Tensor? buffer, int n, IReadOnlyList<int> sample)
    {
        if (buffer is null || buffer.Shape[0] != n || !IsBatchOf(buffer.Shape, sample)) buffer = new Tensor(BatchShape(n, sample));
        return buffer;
    }

    /// <summary>Batch shape (n, per-sample dims…).</summary>
    protected static Shape BatchShape(int n, IReadOnlyList<int> sample)
    {
        var d = new int[sample.Count + 1];
        d[0] = n;
        for (int i = 0; i < sample.Count; i++) d[i + 1] = sample[i];
        return new Shape(d);
    }
}
