using System.Diagnostics;
using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>
/// A linear stack of layers trained like Keras: <c>Compile</c>, <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c>,
/// <c>Summary</c>, <c>Save</c>/<c>Load</c>. The model is built from the <see cref="Input"/> layer (or the first data it sees).
/// </summary>
public sealed partial class Sequential : ITrainingContext
{
    private readonly List<Layer> _layers = [];
    private Optimizer? _optimizer;
    private Loss? _loss;
    private Metric[] _metrics = [];
    private int _threads = Environment.ProcessorCount;
    private readonly Dictionary<int, Tensor> _batchBuffers = [];
    private float[] _scratch = [];
    private IProgress<TrainingProgress>? _progress;
    private int _progressEpoch, _progressEpochs;
    private Stopwatch _clock = new();

    /// <summary>Creates a model from layers (an <see cref="Input"/> first fixes the input shape).</summary>
    public Sequential(params Layer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var l in layers) Add(l);
    }

    /// <summary>The model's name (<c>sequential</c>).</summary>
    public string Name { get; set; } = "sequential";

    /// <summary>The layers, including a leading <see cref="Input"/> if given.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>
    /// Seed for weight initialisation (layer i gets <c>Seed·1000 + i</c>). Setting it on a model that is already
    /// built (e.g. <c>new Sequential(new Input(…), …) { Seed = 5 }</c>) re-initialises every layer's weights.
    /// </summary>
    public int Seed
    {
        get => _seed;
        set
        {
            _seed = value;
            for (int i = 0; i < _layers.Count; i++) _layers[i].Reinitialize(value * 1000 + i);
        }
    }
    private int _seed;

    /// <summary>Degree of parallelism of the kernels (default: all cores).</summary>
    public int Threads
    {
        get => _threads;
        set
        {
            if (value <= 0) throw new ArgumentOutOfRangeException(nameof(value), $"Threads must be positive, got {value}.");
            _threads = value;
            foreach (var l in _layers) l.Threads = value;
        }
    }

    /// <summary>Per-sample input shape once built.</summary>
    public IReadOnlyList<int>? InputShape { get; private set; }

    /// <summary>True once every layer has weights.</summary>
    public bool IsBuilt => InputShape is not null;

    /// <summary>Stops <c>Fit</c> after the current epoch (set by callbacks).</summary>
    public bool StopTraining { get; set; }

    /// <summary>The compiled metrics' names, e.g. <c>accuracy</c>.</summary>
    public IReadOnlyList<string> MetricNames => _metrics.Select(m => m.Name).ToArray();

    /// <summary>Names of the values <see cref="Evaluate(Dataset, int)"/> returns: <c>loss</c> then the metrics.</summary>
    public IReadOnlyList<string> EvaluateNames => new[] { "loss" }.Concat(MetricNames).ToArray();

    /// <summary>Appends a layer; gives it a Keras-style default name if it has none.</summary>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer)) throw new ArgumentException($"Layer '{layer.Name}' is already in the model.");
        if (layer is Input && _layers.Count > 0) throw new ArgumentException("An Input layer can only be the first layer of a Sequential model.");
        if (layer.Name.Length == 0) layer.Name = UniqueName(KerasName(layer.TypeName));
        else if (_layers.Any(l => l.Name == layer.Name)) throw new ArgumentException($"Layer name '{layer.Name}' is already used in the model; names must be unique.");
        layer.Threads = _threads;
        if (IsBuilt)
        {
            // Built models (e.g. from an Input layer) build each added layer right away, like Keras.
            if (!layer.IsBuilt) layer.Seed = Seed * 1000 + _layers.Count;
            layer.Build(OutputShape);
        }
        _layers.Add(layer);
        _plan = null;
        if (layer is Input input) Build(input.Shape.ToArray());
        UpdateGradientFlags();
    }

    // The first layers up to and including the first one with parameters need no input gradient.
    private void UpdateGradientFlags()
    {
        bool first = true;
        foreach (var l in _layers)
        {
            l.NeedsInputGradient = !first;
            if (l.Parameters.Count > 0 || l is not (Input or Rescaling)) first = false;
        }
    }

    private string UniqueName(string baseName)
    {
        if (_layers.All(l => l.Name != baseName)) return baseName;
        for (int i = 1; ; i++)
            if (_layers.All(l => l.Name != $"{baseName}_{i}")) return $"{baseName}_{i}";
    }

    /// <summary>Keras' <c>to_snake_case</c> of a layer class name: Conv2D → conv2d, MaxPooling2D → max_pooling2d, ReLU → re_lu.</summary>
    public static string KerasName(string typeName)
    {
        var s = System.Text.RegularExpressions.Regex.Replace(typeName, @"\W+", "");
        s = System.Text.RegularExpressions.Regex.Replace(s, "(.)([A-Z][a-z]+)", "$1_$2");
        return System.Text.RegularExpressions.Regex.Replace(s, "([a-z])([A-Z])", "$1_$2").ToLowerInvariant();
    }

    /// <summary>Builds every layer for a per-sample input shape, e.g. <c>Build(80, 80, 1)</c>.</summary>
    public void Build(params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (IsBuilt)
        {
            if (!InputShape!.SequenceEqual(inputShape))
                throw new LayerShapeException(Name, Layer.Fmt(InputShape!, true), Layer.Fmt(inputShape, true),
                    $"Model '{Name}' was built for input {Layer.Fmt(InputShape!, true)}, got {Layer.Fmt(inputShape, true)}.");
            return;
        }
        IReadOnlyList<int> shape = inputShape;
        for (int i = 0; i < _layers.Count; i++)
        {
            var l = _layers[i];
            if (!l.IsBuilt) l.Seed = Seed * 1000 + i;
            l.Build(shape);
            shape = l.OutputShape!;
        }
        InputShape = inputShape.ToArray();
        UpdateGradientFlags();
    }

    /// <summary>Per-sample output shape of the model.</summary>
    public IReadOnlyList<int> OutputShape => IsBuilt ? (_layers.Count > 0 ? _layers[^1].OutputShape! : InputShape!)
        : throw new InvalidOperationException($"Model '{Name}' is not built yet: add an Input layer or call Build(shape).");

    /// <summary>All parameters in layer order.</summary>
    public IReadOnlyList<Parameter> Parameters => _layers.SelectMany(l => l.Parameters).ToArray();

    /// <summary>Parameters of trainable layers.</summary>
    public IReadOnlyList<Parameter> TrainableParameters => _layers.Where(l => l.Trainable).SelectMany(l => l.Parameters).Where(p => p.Trainable).ToArray();

    /// <summary>Total number of scalar parameters.</summary>
    public long CountParams() => _layers.Sum(l => l.ParamCount);

    /// <summary>Sets the optimiser, loss and metrics, like Keras <c>compile</c>.</summary>
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

    /// <summary>Forward pass of one batch through every layer (result owned by the last layer).</summary>
    public Tensor Call(Tensor x, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        EnsureBuilt(x);
        CheckBatch(x);
        var plan = Plan();
        var h = x;
        for (int s = 0; s < plan.Length; s++) h = ForwardStep(plan[s].First, h, training);
        return h;
    }

    private void EnsureBuilt(Tensor x)
    {
        if (IsBuilt) return;
        if (x.Shape.Rank < 2)
            throw new LayerShapeException(Name, "(None, …)", x.Shape.ToString(), $"Model '{Name}': the input {x.Shape} has no batch dimension; add one.");
        Build(x.Shape.SampleDims());
    }

    private void CheckBatch(Tensor x)
    {
        var exp = InputShape!;
        if (Layer.IsBatchOf(x.Shape, exp)) return;
        var act = x.Shape.ToArray();
        string first = _layers.Count > 0 ? $"layer '{_layers[0].Name}' ({_layers[0].TypeName})" : $"model '{Name}'";
        if (act.SequenceEqual(exp))
            throw new LayerShapeException(_layers.Count > 0 ? _layers[0].Name : Name, Layer.Fmt(exp, true), x.Shape.ToString(),
                $"Input to {first} of model '{Name}' has shape {x.Shape} but the model expects {Layer.Fmt(exp, true)}: the batch dimension is missing. " +
                $"Add one, e.g. x.Reshape(1, {string.Join(", ", exp)}), or select samples with x.Gather([i]) (Keras: X_test[[17]], not X_test[17]).");
        throw new LayerShapeException(_layers.Count > 0 ? _layers[0].Name : Name, Layer.Fmt(exp, true), x.Shape.ToString(),
            $"Input to {first} of model '{Name}' has shape {x.Shape} but the model expects {Layer.Fmt(exp, true)}.");
    }

    /// <summary>Logits (the last layer's output) for every sample, computed in batches; a new tensor.</summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        EnsureBuilt(x);
        CheckBatch(x);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        int n = x.Shape[0];
        Tensor? result = null;
        for (int s = 0; s < n; s += batchSize)
        {
            int cnt = Math.Min(batchSize, n - s);
            var y = Call(x.Slice(s, cnt));
            result ??= new Tensor(y.Shape.WithBatch(n));
            int per = y.Length / cnt;
            y.Span.CopyTo(result.Span.Slice(s * per, cnt * per));
        }
        return result!;
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
    Optimizer? ITrainingContext.Optimizer => _optimizer;
    void ITrainingContext.Save(string path) => Save(path);
    void ITrainingContext.SetWeights(float[][] weights) => SetWeights(weights);
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
        {
            var dims = new int[InputShape!.Count + 1];
            dims[0] = count;
            for (int i = 0; i < InputShape.Count; i++) dims[i + 1] = InputShape[i];
            _batchBuffers[count] = t = new Tensor(dims);
        }
        return t;
    }

    private static void EnsureLength(ref float[] buffer, int n)
    {
        if (buffer.Length != n) buffer = new float[n];
    }
}
