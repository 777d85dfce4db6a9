using System.Diagnostics;

namespace ConvNet;

/// <summary>
/// A model: a graph of layers from one input to one output, trained like Keras (<c>Compile</c>, <c>Fit</c>, <c>Evaluate</c>,
/// <c>Predict</c>, <c>Summary</c>, <c>Save</c>/<c>Load</c>). Build one with the functional API:
/// <code>
/// var inputs = new Input(80, 80, 1);
/// var x = new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu).Apply(inputs);
/// var y = new Conv2D(16, 3, padding: Padding.Same).Apply(x);
/// x = new ReLU().Apply(new Add().Apply(x, y));                      // residual
/// var model = new Model(inputs, new Dense(57).Apply(new Flatten().Apply(x)), name: "resnetish");
/// </code>
/// or with <see cref="Sequential"/>, a builder of a chain on top of this class (as in Keras, where Sequential builds a
/// Functional). A model is a <see cref="Layer"/>, so it can be applied inside another model
/// (<c>baseModel.Apply(x, training: false)</c>); its summary row then shows its parameter counts.
/// <para>Limits: one input and one output; a layer instance is applied once (shared layers are refused with a clear
/// error) and belongs to one model's graph.</para>
/// <para>Execution: the graph is compiled into an execution plan (topological steps; a Conv2D whose only consumer is a
/// fusable MaxPooling2D runs fused; gradients of a tensor feeding several layers are summed; inference reuses buffers
/// by liveness). A model instance runs one call at a time: it is not safe to call it from two threads at once.</para>
/// </summary>
public partial class Model : Layer, ITrainingContext
{
    private protected readonly List<Layer> _layers = [];
    private SymbolicTensor? _inputTensor, _outputTensor;
    private List<SymbolicTensor> _tensors = [];
    private ExecutionPlan? _plan;
    private bool _enableFusion = true;
    private Optimizer? _optimizer;
    private Loss? _loss;
    private Metric[] _metrics = [];
    private readonly Dictionary<int, Tensor> _batchBuffers = [];
    private float[] _scratch = [];
    private IProgress<TrainingProgress>? _progress;
    private int _progressEpoch, _progressEpochs;
    private Stopwatch _clock = new();

    /// <summary>
    /// Builds a model from the graph between <paramref name="inputs"/> and <paramref name="outputs"/> (Keras
    /// <c>Model(inputs, outputs)</c>). Layers without a name get Keras-style unique names; layers not seeded explicitly are
    /// re-initialised with seed <c>Seed·1000 + i</c> for their index i in <see cref="Layers"/>, as in <see cref="Sequential"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The output is not computed from the input, the graph uses another input, or a
    /// layer belongs to another model; the message names the layer.</exception>
    public Model(SymbolicTensor inputs, SymbolicTensor outputs, string? name = null) : base(name ?? "functional")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Layer is not Input)
            throw new ArgumentException($"Model '{Name}': the inputs must be an Input, got the output of {inputs.Describe()}.", nameof(inputs));
        SetGraph(inputs, outputs, CollectGraph(inputs, outputs));
        AssignNames();
        for (int i = 0; i < _layers.Count; i++)
            if (!_layers[i].SeedAssigned && _layers[i] is not Model) _layers[i].Reinitialize(Seed * 1000 + i);
    }

    /// <summary>For <see cref="Sequential"/>: an empty model built later.</summary>
    private protected Model(string name, bool _) : base(name) { }

    /// <inheritdoc/>
    public override string TypeName => "Functional";

    /// <summary>The layers in topological order (for a functional model the <see cref="Input"/> comes first).</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>The model's symbolic input (Keras <c>model.input</c>); null for a <see cref="Sequential"/> that is not built yet.</summary>
    public SymbolicTensor? InputTensor => _inputTensor;

    /// <summary>The model's symbolic output (Keras <c>model.output</c>); null for a <see cref="Sequential"/> that is not built yet.</summary>
    public SymbolicTensor? OutputTensor => _outputTensor;

    /// <summary>Every tensor of the graph in topological order (each after the tensors it reads): the input first, the output
    /// last. Empty for a <see cref="Sequential"/> that is not built yet.</summary>
    public IReadOnlyList<SymbolicTensor> Tensors => _tensors;

    /// <summary>The layer called <paramref name="name"/> (Keras <c>get_layer</c>).</summary>
    /// <exception cref="ArgumentException">No layer has that name; the message lists the names.</exception>
    public Layer GetLayer(string name) => _layers.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException($"Model '{Name}' has no layer '{name}'; its layers are {string.Join(", ", _layers.Select(l => l.Name))}.", nameof(name));

    // Walks back from the output: every tensor that the output depends on, in creation (= topological) order.
    private List<SymbolicTensor> CollectGraph(SymbolicTensor input, SymbolicTensor output)
    {
        var seen = new HashSet<SymbolicTensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<SymbolicTensor>();
        stack.Push(output);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t)) continue;
            if (t.Layer is Input && !ReferenceEquals(t, input))
                throw new ArgumentException($"Model '{Name}': the output {output.Describe()} depends on input {t.Describe()} {Fmt(t.Shape, true)}, " +
                    $"which is not the model's input {input.Describe()}. Only one input is supported.");
            if (t.Layer.Owner is { } owner && !ReferenceEquals(owner, this))
                throw new ArgumentException($"Model '{Name}': layer {t.Describe()} belongs to model '{owner.Name}'. A layer can be in one model's graph only; " +
                    $"to reuse a whole model, apply it as a layer ('{owner.Name}'.Apply(x)).");
            foreach (var i in t.Inputs) stack.Push(i);
        }
        if (!seen.Contains(input))
            throw new ArgumentException($"Model '{Name}': the output {output.Describe()} is not computed from the input {input.Describe()}: the input is not used. " +
                "Build the output by applying layers to the input.");
        return [.. seen.OrderBy(t => t.Id)];
    }

    /// <summary>Adopts a graph: sets the layer list, ownership and the built shapes; the plan is compiled on first use.</summary>
    private protected void SetGraph(SymbolicTensor input, SymbolicTensor output, List<SymbolicTensor> tensors, bool keepLayerList = false)
    {
        _inputTensor = input;
        _outputTensor = output;
        _tensors = tensors;
        if (!keepLayerList)
        {
            _layers.Clear();
            foreach (var t in tensors) _layers.Add(t.Layer);
        }
        foreach (var l in _layers) { l.Owner = this; l.Threads = Threads; }
        SetShapes(input.Shape.ToArray(), output.Shape.ToArray());
        _plan = null;
    }

    private void AssignNames()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in _layers)
            if (l.Name.Length > 0 && !used.Add(l.Name))
                throw new ArgumentException($"Model '{Name}': two layers are named '{l.Name}'; layer names must be unique.");
        foreach (var l in _layers)
            if (l.Name.Length == 0) l.Name = UniqueName(used, KerasName(l.TypeName));
    }

    private protected static string UniqueName(HashSet<string> used, string baseName)
    {
        string name = baseName;
        for (int i = 1; !used.Add(name); i++) name = $"{baseName}_{i}";
        return name;
    }

    /// <summary>Keras' <c>to_snake_case</c> of a layer class name: Conv2D → conv2d, MaxPooling2D → max_pooling2d, ReLU → re_lu.</summary>
    public static string KerasName(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        var s = System.Text.RegularExpressions.Regex.Replace(typeName, @"\W+", "");
        s = System.Text.RegularExpressions.Regex.Replace(s, "(.)([A-Z][a-z]+)", "$1_$2");
        return System.Text.RegularExpressions.Regex.Replace(s, "([a-z])([A-Z])", "$1_$2").ToLowerInvariant();
    }

    /// <summary>Per-sample output shape of the model.</summary>
    public new IReadOnlyList<int> OutputShape => base.OutputShape
        ?? throw new InvalidOperationException($"Model '{Name}' is not built yet: add an Input layer or call Build(shape).");

    /// <summary>All parameters in layer order (nested models included).</summary>
    public override IReadOnlyList<Parameter> Parameters => _layers.SelectMany(l => l.Parameters).ToArray();

    /// <summary>Parameters that training updates: those of trainable layers that are not non-trainable state.</summary>
    public IReadOnlyList<Parameter> TrainableParameters => TrainableOf(this).ToArray();

    private static IEnumerable<Parameter> TrainableOf(Model m) =>
        m._layers.SelectMany(l => l is Model inner ? TrainableOf(inner) : l.Trainable ? l.Parameters.Where(p => p.Trainable) : []);

    /// <inheritdoc/>
    public override long TrainableParamCount => _layers.Sum(l => l.TrainableParamCount);

    internal override bool HasTrainableParameters
    {
        get
        {
            foreach (var l in _layers) if (l.HasTrainableParameters) return true;
            return false;
        }
    }

    /// <summary>Total number of scalar parameters.</summary>
    public long CountParams() => _layers.Sum(l => l.ParamCount);

    private protected override void OnTrainableSet(bool value)
    {
        foreach (var l in _layers) l.Trainable = value;
    }

    private protected override void OnThreadsSet(int value)
    {
        foreach (var l in _layers) l.Threads = value;
    }

    /// <summary>Setting the seed re-initialises every layer's weights: layer i gets <c>Seed·1000 + i</c>. Nested models keep
    /// their weights (they may be pretrained).</summary>
    private protected override void OnSeedSet(int seed)
    {
        for (int i = 0; i < _layers.Count; i++) _layers[i].Reinitialize(seed * 1000 + i);
    }

    internal override void Reinitialize(int seed) { }   // a nested model keeps its (possibly pretrained) weights

    /// <summary>The compiled optimizer, loss and metrics (null before <see cref="Compile"/>), for the model file.</summary>
    internal (Optimizer Optimizer, Loss Loss, Metric[] Metrics)? Compiled => _optimizer is null || _loss is null ? null : (_optimizer, _loss, _metrics);

    /// <summary>True once <see cref="Compile"/> was called (also for a model loaded from a file that stores its compile configuration).</summary>
    public bool IsCompiled => _optimizer is not null && _loss is not null;

    /// <summary>Class names for the output units (e.g. the training folders' names), saved in the model file; null if unknown.</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>Stops <c>Fit</c> after the current epoch (set by callbacks).</summary>
    public bool StopTraining { get; set; }

    /// <summary>The compiled metrics' names, e.g. <c>accuracy</c>.</summary>
    public IReadOnlyList<string> MetricNames => _metrics.Select(m => m.Name).ToArray();

    /// <summary>Names of the values <see cref="Evaluate(Dataset, int)"/> returns: <c>loss</c> then the metrics.</summary>
    public IReadOnlyList<string> EvaluateNames => new[] { "loss" }.Concat(MetricNames).ToArray();

    /// <summary>Sets the optimiser, loss and metrics, like Keras <c>compile</c>. Compiling again (e.g. after changing
    /// <see cref="Layer.Trainable"/> for fine-tuning) takes effect at the next step.</summary>
    public void Compile(Optimizer optimizer, Loss loss, params Metric[] metrics)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(metrics);
        var names = metrics.Select(m => m.Name).ToArray();
        if (names.Distinct().Count() != names.Length) throw new ArgumentException($"Metric names must be unique, got {string.Join(", ", names)}.");
        TargetChecks.CheckCompatible(loss, metrics);
        _optimizer = optimizer; _loss = loss; _metrics = metrics.Select(m => m.CloneEmpty()).ToArray();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Execution
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>Fusion of Conv2D + MaxPooling2D pairs in the plan (default true; tests and benchmarks compare both).</summary>
    internal bool EnableFusion
    {
        get => _enableFusion;
        set { _enableFusion = value; _plan = null; }
    }

    /// <summary>The execution plan (compiled on first use and after the graph changes).</summary>
    internal ExecutionPlan Plan()
    {
        if (_plan is not null) return _plan;
        if (_inputTensor is null || _outputTensor is null)
            throw new InvalidOperationException($"Model '{Name}' is not built yet: add an Input layer or call Build(shape).");
        return _plan = new ExecutionPlan(_tensors, _inputTensor, _outputTensor, _enableFusion);
    }

    /// <summary>Forgets the plan (after the graph changed).</summary>
    private protected void InvalidatePlan() => _plan = null;

    /// <summary>Forward pass of one batch (result owned by the model, overwritten by the next call).</summary>
    /// <param name="x">The batch (N, …).</param>
    /// <param name="training">True runs training-mode behaviour (e.g. batch statistics, dropout) and keeps the activations.</param>
    public Tensor Call(Tensor x, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var exclusive = Exclusive();
        EnsureBuilt(x);
        CheckBatch(x);
        return Run(x, training, record: training);
    }

    private Tensor Run(Tensor x, bool training, bool record) => Plan().Forward(x, training, record);

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> inputShape)
    {
        var exp = InputShape ?? throw new InvalidOperationException($"Model '{Name}' is not built yet.");
        if (!inputShape.SequenceEqual(exp))
            throw Error(Fmt(exp, true), Fmt(inputShape, true), $"model '{Name}' was built for input {Fmt(exp, true)}");
        return OutputShape.ToArray();
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training) => Run(x, training, record: true);

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var plan = Plan();
        plan.PrepareBackward(NeedsInputGradient);
        if (!plan.AnyGradient) return dy;
        return plan.Backward(dy) ?? dy;
    }

    internal override Tensor ForwardNode(Tensor[] inputs, bool training, bool record)
    {
        CheckBatch(inputs[0]);
        return Run(inputs[0], training, record);
    }

    internal override bool OutputMayAliasInput => true;

    internal override void WriteConfig(IDictionary<string, string> config) { }

    private protected virtual void EnsureBuilt(Tensor x)
    {
        if (IsBuilt) return;
        throw new InvalidOperationException($"Model '{Name}' is not built yet.");
    }

    private protected void CheckBatch(Tensor x)
    {
        var exp = InputShape!;
        if (IsBatchOf(x.Shape, exp)) return;
        var act = x.Shape.ToArray();
        var first = _layers.FirstOrDefault(l => l is not Input);
        string where = first is not null ? $"layer '{first.Name}' ({first.TypeName})" : $"model '{Name}'";
        string who = first?.Name ?? Name;
        if (act.SequenceEqual(exp))
            throw new LayerShapeException(who, Fmt(exp, true), x.Shape.ToString(),
                $"Input to {where} of model '{Name}' has shape {x.Shape} but the model expects {Fmt(exp, true)}: the batch dimension is missing. " +
                $"Add one, e.g. x.Reshape(1, {string.Join(", ", exp)}), or select samples with x.Gather([i]) (Keras: X_test[[17]], not X_test[17]).");
        string hint = act.Length == 4 && exp.Count == 3
            ? $" If the data comes from ConvNet.Data, load it with new ImageLoadOptions {{ ImageSize = ({exp[0]}, {exp[1]}), ColorMode = ColorMode.{(exp[2] == 1 ? "Grayscale" : exp[2] == 4 ? "Rgba" : "Rgb")} }} " +
              "or ImageLoadOptions.ForInput(model.InputShape); the default is Keras' 256×256 RGB."
            : "";
        throw new LayerShapeException(who, Fmt(exp, true), x.Shape.ToString(),
            $"Input to {where} of model '{Name}' has shape {x.Shape} but the model expects {Fmt(exp, true)}.{hint}");
    }

    /// <summary>The model output for every sample, computed in batches; a new tensor.</summary>
    /// <exception cref="ArgumentException">An input value is NaN or infinite (the message names the sample).</exception>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var exclusive = Exclusive();
        EnsureBuilt(x);
        CheckBatch(x);
        CheckFinite(x, "the input");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        int n = x.Shape[0];
        Tensor? result = null;
        for (int s = 0; s < n; s += batchSize)
        {
            int cnt = Math.Min(batchSize, n - s);
            var y = Run(x.Slice(s, cnt), training: false, record: false);
            result ??= new Tensor(y.Shape.WithBatch(n));
            int per = y.Length / cnt;
            y.Span.CopyTo(result.Span.Slice(s * per, cnt * per));
        }
        return result!;
    }

    /// <summary>
    /// The <paramref name="k"/> most probable classes of every sample, best first, with softmax probabilities (for a model that
    /// outputs logits) and the names from <see cref="ClassNames"/> (or the class index as text when there are none).
    /// </summary>
    public IReadOnlyList<ClassPrediction[]> PredictTopK(Tensor x, int k = 5, int batchSize = 32)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be positive, got {k}.");
        var p = PredictProbabilities(x, batchSize);
        int classes = p.Shape[-1], n = p.Length / classes;
        if (ClassNames is { } names && names.Count != classes)
            throw new InvalidOperationException($"Model '{Name}' has {names.Count} class names but {classes} outputs.");
        k = Math.Min(k, classes);
        var result = new ClassPrediction[n][];
        for (int i = 0; i < n; i++)
        {
            var row = p.Span.Slice(i * classes, classes).ToArray();
            result[i] = Enumerable.Range(0, classes).OrderByDescending(c => row[c]).ThenBy(c => c).Take(k)
                .Select(c => new ClassPrediction(c, ClassNames?[c] ?? c.ToString(System.Globalization.CultureInfo.InvariantCulture), row[c])).ToArray();
        }
        return result;
    }

    /// <summary>The most probable class name of every sample (see <see cref="PredictTopK"/>).</summary>
    public string[] PredictClasses(Tensor x, int batchSize = 32) => PredictTopK(x, 1, batchSize).Select(r => r[0].Name).ToArray();

    // Inputs must be finite: a NaN pixel would give NaN outputs and metrics without a word.
    private static void CheckFinite(Tensor x, string what)
    {
        if (AllFinite(x.Span)) return;
        int per = Math.Max(1, x.Length / Math.Max(1, x.Shape[0]));
        int i = 0;
        var s = x.Span;
        while (i < s.Length && float.IsFinite(s[i])) i++;
        throw new ArgumentException($"Sample {i / per} of {what} {x.Shape} contains {s[i]} (NaN or infinite values are not allowed; clean or drop it).");
    }

    /// <summary>
    /// Marks the model busy for one public call (Call, Predict, Evaluate, Fit, TrainOnBatch). A model runs one call at a time:
    /// its layers own their buffers. A second thread calling it meanwhile gets an <see cref="InvalidOperationException"/> instead
    /// of silently wrong results; calls from the same thread nest (Fit runs Evaluate on the validation data).
    /// </summary>
    private protected ExclusiveUse Exclusive()
    {
        int me = Environment.CurrentManagedThreadId;
        int owner = Interlocked.CompareExchange(ref _ownerThread, me, 0);
        if (owner != 0 && owner != me)
            throw new InvalidOperationException($"Model '{Name}' is already running a call on another thread. A model instance is not thread-safe: " +
                "use one instance per thread (e.g. Model.Load the same file once per thread), or serialise the calls with a lock.");
        _depth++;
        return new ExclusiveUse(this);
    }

    private int _ownerThread, _depth;

    /// <summary>Ends one <see cref="Exclusive"/> call.</summary>
    private protected readonly struct ExclusiveUse(Model model) : IDisposable
    {
        public void Dispose()
        {
            if (--model._depth == 0) Volatile.Write(ref model._ownerThread, 0);
        }
    }

    /// <summary>Softmax probabilities of <see cref="Predict"/> (for a model that outputs logits).</summary>
    public Tensor PredictProbabilities(Tensor x, int batchSize = 32)
    {
        var logits = Predict(x, batchSize);
        int classes = logits.Shape[-1];
        Kernels.Activations.SoftmaxForward(logits.Length / classes, classes, logits.Span, logits.Span);
        return logits;
    }

    float[][] ITrainingContext.GetWeights() => GetWeights();
    void ITrainingContext.SetWeights(float[][] weights) => SetWeights(weights);
    Optimizer? ITrainingContext.Optimizer => _optimizer;
    void ITrainingContext.Save(string path) => Save(path);
    void ITrainingContext.Report(string message) => _progress?.Report(new TrainingProgress(ProgressKind.Message, _progressEpoch, _progressEpochs, 0, 0,
        new Dictionary<string, double>(), _clock.Elapsed, message));

    /// <summary>Copies of every parameter value in model order.</summary>
    public float[][] GetWeights() => Parameters.Select(p => p.Value.ToArray()).ToArray();

    /// <summary>Sets every parameter from <see cref="GetWeights"/>-shaped arrays.</summary>
    public void SetWeights(float[][] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var ps = Parameters;
        if (weights.Length != ps.Count) throw new ArgumentException($"Model '{Name}' has {ps.Count} weight tensors, got {weights.Length}.");
        for (int i = 0; i < ps.Count; i++)
        {
            if (weights[i].Length != ps[i].Value.Length)
                throw new ArgumentException($"Weight {i} ({ps[i].Name}) has {ps[i].Value.Length} values, got {weights[i].Length}.");
            weights[i].CopyTo(ps[i].Value.Span);
        }
    }

    private Tensor BatchBuffer(int count)
    {
        if (!_batchBuffers.TryGetValue(count, out var t))
            _batchBuffers[count] = t = new Tensor(BatchShape(count, InputShape!));
        return t;
    }

    private static void EnsureLength(ref float[] buffer, int n)
    {
        if (buffer.Length != n) buffer = new float[n];
    }

    /// <summary>Saves architecture and weights atomically (see <see cref="ModelFile"/> for the format).</summary>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>Saves the model file (weights and the architecture they belong to).</summary>
    public void SaveWeights(string path) => ModelFile.Save(this, path);

    /// <summary>Fills this model's weights from a model file; names the layer whose shape does not match.</summary>
    public void LoadWeights(string path) => ModelFile.LoadWeights(this, path);

    /// <summary>Loads a model saved with <see cref="Save"/> (functional or <see cref="Sequential"/>, format v1 or v2).</summary>
    public static Model Load(string path) => ModelFile.LoadModel(path);
}
