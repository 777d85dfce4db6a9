namespace ConvNet;

/// <summary>
/// A linear stack of layers, like Keras <c>Sequential</c>: a thin builder that chains each added layer onto the previous
/// one's output with <see cref="Layer.Apply(SymbolicTensor, bool?)"/> and trains as a <see cref="Model"/>. The model is
/// built from a leading <see cref="Input"/> layer, from <see cref="Build"/>, or from the first data it sees.
/// </summary>
public sealed class Sequential : Model
{
    private Input? _hiddenInput;   // the graph source when no Input layer was added

    /// <summary>Creates a model from layers (an <see cref="Input"/> first fixes the input shape).</summary>
    public Sequential(params Layer[] layers) : base("sequential", false)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var l in layers) Add(l);
    }

    /// <inheritdoc/>
    public override string TypeName => "Sequential";

    /// <summary>Appends a layer; gives it a Keras-style default name if it has none. On a built model the layer is built
    /// (and seeded with <c>Seed·1000 + i</c>) right away, like Keras.</summary>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer)) throw new ArgumentException($"Layer '{layer.Name}' is already in the model.");
        if (layer is Input && _layers.Count > 0) throw new ArgumentException("An Input layer can only be the first layer of a Sequential model.");
        if (layer.Owner is not null || (layer.CallOutput is not null && layer is not Input))
            throw new ArgumentException($"Layer '{layer.Name}' ({layer.TypeName}) already belongs to another model's graph; create a new layer.");
        var used = new HashSet<string>(_layers.Select(l => l.Name), StringComparer.Ordinal);
        if (layer.Name.Length == 0) layer.Name = UniqueName(used, KerasName(layer.TypeName));
        else if (used.Contains(layer.Name)) throw new ArgumentException($"Layer name '{layer.Name}' is already used in the model; names must be unique.");
        layer.Threads = Threads;
        if (layer is Input input)
        {
            _layers.Add(layer);
            SetGraph(input, input, [input], keepLayerList: true);
            return;
        }
        if (IsBuilt)
        {
            if (!layer.IsBuilt) layer.Seed = Seed * 1000 + _layers.Count;
            var output = layer.Apply(OutputTensor!);
            _layers.Add(layer);
            SetGraph(InputTensor!, output, [.. ChainTensors()], keepLayerList: true);
        }
        else _layers.Add(layer);
    }

    private IEnumerable<SymbolicTensor> ChainTensors()
    {
        yield return InputTensor!;
        foreach (var l in _layers) if (l is not Input) yield return l.CallOutput!;
    }

    /// <summary>Builds every layer for a per-sample input shape, e.g. <c>Build(80, 80, 1)</c>.</summary>
    public void Build(params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (IsBuilt)
        {
            if (!InputShape!.SequenceEqual(inputShape))
                throw new LayerShapeException(Name, Fmt(InputShape!, true), Fmt(inputShape, true),
                    $"Model '{Name}' was built for input {Fmt(InputShape!, true)}, got {Fmt(inputShape, true)}.");
            return;
        }
        _hiddenInput = new Input(inputShape) { Name = "input_layer" };
        SymbolicTensor t = _hiddenInput;
        var tensors = new List<SymbolicTensor> { t };
        for (int i = 0; i < _layers.Count; i++)
        {
            var l = _layers[i];
            if (!l.IsBuilt) l.Seed = Seed * 1000 + i;
            t = l.Apply(t);
            tensors.Add(t);
        }
        SetGraph(_hiddenInput, t, tensors, keepLayerList: true);
    }

    private protected override void EnsureBuilt(Tensor x)
    {
        if (IsBuilt) return;
        if (x.Shape.Rank < 2)
            throw new LayerShapeException(Name, "(None, …)", x.Shape.ToString(), $"Model '{Name}': the input {x.Shape} has no batch dimension; add one.");
        Build(x.Shape.SampleDims());
    }

    /// <summary>Loads a <see cref="Sequential"/> model saved with <see cref="Model.Save"/> (format v1 or v2).</summary>
    /// <exception cref="InvalidDataException">The file is corrupt, or holds a functional model (use <see cref="Model.Load"/>).</exception>
    public static new Sequential Load(string path) => ModelFile.Load(path);
}
