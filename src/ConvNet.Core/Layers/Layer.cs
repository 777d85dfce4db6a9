using System.Text;

namespace ConvNet;

/// <summary>
/// Base of all layers. A layer owns its parameters, their gradients, its caches and its output
/// buffers; it is built (weights created) from the first input shape it sees, as in Keras.
/// <see cref="Forward"/> returns a tensor owned by the layer and overwritten by the next call.
/// <para>
/// Functional API: <see cref="Apply(SymbolicTensor, bool?)"/> calls the layer on a symbolic tensor (an <see cref="Input"/>
/// or another layer's output) and returns the symbolic output, like calling a Keras layer; a <see cref="Model"/> is built
/// from the graph these calls record. The name <c>Apply</c> follows TensorFlow.NET's Keras port: C# has no call operator,
/// and a verb that says "record this call" reads better than an indexer or an overloaded operator.
/// </para>
/// </summary>
public abstract class Layer
{
    private readonly List<Parameter> _parameters = [];
    private int[]? _inputShape;
    private int[]? _outputShape;
    private bool _trainable = true;
    private int _seed;
    private int _threads = Environment.ProcessorCount;

    /// <summary>Creates a layer; <paramref name="name"/> null means a Keras-style default name is given when added to a model.</summary>
    protected Layer(string? name) => Name = name ?? "";

    /// <summary>The layer's name (Keras style: <c>conv2d</c>, <c>conv2d_1</c>, … unless set).</summary>
    public string Name { get; set; }

    /// <summary>False freezes the layer: its parameters are not updated and count as non-trainable.
    /// On a <see cref="Model"/> it sets every inner layer, as in Keras.</summary>
    public bool Trainable
    {
        get => _trainable;
        set { _trainable = value; OnTrainableSet(value); }
    }

    /// <summary>Called after <see cref="Trainable"/> is set (models pass it on to their layers).</summary>
    private protected virtual void OnTrainableSet(bool value) { }

    /// <summary>The Keras class name, e.g. <c>Conv2D</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>Seed for the weight initialiser (set by the model; default 0). On a <see cref="Model"/>, setting it re-initialises the model's layers.</summary>
    public int Seed
    {
        get => _seed;
        set { _seed = value; SeedAssigned = true; OnSeedSet(value); }
    }

    /// <summary>True once a seed was set explicitly or by a model (a model re-seeds only the layers without one).</summary>
    internal bool SeedAssigned { get; private set; }

    /// <summary>Called after <see cref="Seed"/> is set.</summary>
    private protected virtual void OnSeedSet(int seed) { }

    /// <summary>Per-sample input shape (without the batch dimension) once built.</summary>
    public IReadOnlyList<int>? InputShape => _inputShape;

    /// <summary>Per-sample output shape (without the batch dimension) once built.</summary>
    public IReadOnlyList<int>? OutputShape => _outputShape;

    /// <summary>True after <see cref="Build"/>.</summary>
    public bool IsBuilt => _outputShape is not null;

    /// <summary>The layer's parameters (empty for parameter-free layers; for a <see cref="Model"/>, those of all its layers).</summary>
    public virtual IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Number of scalar parameters.</summary>
    public long ParamCount => Parameters.Sum(p => (long)p.Value.Length);

    /// <summary>Number of scalar parameters that training updates: 0 when the layer is frozen, else those not marked non-trainable.</summary>
    public virtual long TrainableParamCount => Trainable ? _parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length) : 0;

    /// <summary>True if training would update at least one of this layer's parameters (no allocation).</summary>
    internal virtual bool HasTrainableParameters
    {
        get
        {
            if (!Trainable) return false;
            for (int i = 0; i < _parameters.Count; i++) if (_parameters[i].Trainable) return true;
            return false;
        }
    }

    /// <summary>Degree of parallelism for this layer's kernels (set by the model).</summary>
    public int Threads
    {
        get => _threads;
        set
        {
            if (value <= 0) throw new ArgumentOutOfRangeException(nameof(value), $"Threads must be positive, got {value}.");
            _threads = value;
            OnThreadsSet(value);
        }
    }

    /// <summary>Called after <see cref="Threads"/> is set.</summary>
    private protected virtual void OnThreadsSet(int value) { }

    // ---------------------------------------------------------------------------------------------------------
    // Functional API: symbolic calls recorded into a graph.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>The symbolic output of this layer's one call (null until <see cref="Apply(SymbolicTensor, bool?)"/>).</summary>
    internal SymbolicTensor? CallOutput { get; private protected set; }

    /// <summary>The model whose graph this layer belongs to (null until a model is built from it).</summary>
    internal Model? Owner { get; set; }

    /// <summary>
    /// Calls the layer on a symbolic tensor, like calling a Keras layer: builds the layer for the input's shape (creating
    /// its weights) and returns the symbolic output. Each layer instance can be applied once: shared layers (one instance
    /// called on two inputs) are refused with a clear error; create a second layer instead.
    /// </summary>
    /// <param name="input">An <see cref="Input"/> or the output of another layer's <c>Apply</c>.</param>
    /// <param name="training">Null: follow the model (training in <c>Fit</c>, inference otherwise). False: always run in
    /// inference mode, e.g. <c>baseModel.Apply(x, training: false)</c> keeps a pretrained base's BatchNormalization on its
    /// moving statistics while the outer model trains (gradients still flow through it).</param>
    public SymbolicTensor Apply(SymbolicTensor input, bool? training = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        return ApplyCore([input], training);
    }

    /// <summary>Calls a layer that takes several inputs (<see cref="Add"/>, <see cref="Concatenate"/>, …) on symbolic tensors.</summary>
    public SymbolicTensor Apply(params SymbolicTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return ApplyCore(inputs, null);
    }

    private SymbolicTensor ApplyCore(SymbolicTensor[] inputs, bool? training)
    {
        if (this is Input) throw new InvalidOperationException("An Input is a graph source: pass it to other layers' Apply instead of applying it.");
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"Layer {Display}: input {i} is null.");
        if (CallOutput is not null)
            throw new InvalidOperationException($"Layer {Display} is already applied (to {string.Join(", ", CallOutput.Inputs.Select(t => t.Describe()))}). " +
                "Shared layers (one instance called twice) are not supported: create a second layer with the same configuration.");
        if (Owner is not null)
            throw new InvalidOperationException($"Layer {Display} already belongs to model '{Owner.Name}'; a layer can be in one model's graph only.");
        BuildFor(inputs.Select(t => t.Shape).ToArray());
        CallOutput = new SymbolicTensor(this, inputs, OutputShape!.ToArray(), training);
        return CallOutput;
    }

    /// <summary>Builds the layer for the shapes of its inputs; single-input layers require exactly one.</summary>
    internal virtual void BuildFor(IReadOnlyList<int>[] inputShapes)
    {
        if (inputShapes.Length != 1)
            throw new LayerShapeException(Name, "one input", $"{inputShapes.Length} inputs",
                $"Layer {Display} takes one input, got {inputShapes.Length}: {string.Join(", ", inputShapes.Select(s => Fmt(s, true)))}.");
        Build(inputShapes[0]);
    }

    /// <summary>The minimum number of inputs <see cref="Apply(SymbolicTensor[])"/> needs (1 except for merge layers).</summary>
    internal virtual int MinInputs => 1;

    /// <summary>Forward of one graph node: <paramref name="inputs"/> in call order. <paramref name="record"/> false lets a
    /// nested model reuse buffers (no backward follows).</summary>
    internal virtual Tensor ForwardNode(Tensor[] inputs, bool training, bool record) => Forward(inputs[0], training);

    /// <summary>Backward of one graph node: writes dL/d(input i) into <paramref name="inputGradients"/>[i] (tensors owned by
    /// the layer, or <paramref name="dy"/> itself; never written to by the caller).</summary>
    internal virtual void BackwardNode(Tensor dy, Tensor?[] inputGradients) => inputGradients[0] = Backward(dy);

    /// <summary>True if the output of a forward pass can be (a view of) the input's storage, e.g. <see cref="Flatten"/>.</summary>
    internal virtual bool OutputMayAliasInput => false;

    /// <summary>An output buffer offered by the execution plan for one inference call (reused by liveness); null otherwise.</summary>
    internal Tensor? PlannedOutput { get; set; }

    /// <summary>The forward output buffer: the plan's buffer when it offers one of the right shape (inference), else the
    /// layer's own workspace <paramref name="own"/> (reused while the batch size stays the same).</summary>
    protected Tensor OutputBuffer(ref Tensor? own, int n)
    {
        var p = PlannedOutput;
        if (p is not null && p.Shape[0] == n && IsBatchOf(p.Shape, _outputShape!)) return p;
        return Workspace(ref own, n, _outputShape!);
    }

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
        SetShapes(inputShape.ToArray(), output);
        CreateParameters(_inputShape!, new Rng(Seed));
    }

    /// <summary>Records the built shapes (for layers whose build is not a single input shape, e.g. merges and models).</summary>
    private protected void SetShapes(int[] inputShape, int[] outputShape)
    {
        _inputShape = inputShape;
        _outputShape = outputShape;
    }

    /// <summary>Re-creates and re-initialises the parameters with a new seed (before training; drops optimiser state tied to the old ones).
    /// A nested <see cref="Model"/> keeps its weights (it may be pretrained).</summary>
    internal virtual void Reinitialize(int seed)
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

    /// <summary>For a data-parallel replica (a clone of <paramref name="master"/>): uses the master's parameter values. With
    /// <paramref name="shareGradients"/> it uses the master's <see cref="Parameter"/> objects (gradients add into the master's),
    /// else new ones with their own gradient buffers.</summary>
    internal void ShareParametersOf(Layer master, bool shareGradients)
    {
        _parameters.Clear();
        foreach (var p in master._parameters) _parameters.Add(shareGradients ? p : new Parameter(p.Name, p.Value, p.Trainable));
    }

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
    internal void ForBatch(int n, Action<int, int, int> body)
    {
        if (Threads == 1) { if (n > 0) body(0, 0, n); return; }   // inline, no pool lookup (data-parallel replicas run here)
        Threading.WorkerPool.ForThreads(Threads).Run(n, body);
    }

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
    internal static Shape BatchShapeOf(int n, IReadOnlyList<int> sample) => BatchShape(n, sample);

    /// <summary>Batch shape (n, per-sample dims…).</summary>
    protected static Shape BatchShape(int n, IReadOnlyList<int> sample)
    {
        var d = new int[sample.Count + 1];
        d[0] = n;
        for (int i = 0; i < sample.Count; i++) d[i + 1] = sample[i];
        return new Shape(d);
    }
}
