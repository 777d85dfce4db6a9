namespace ConvNet;

/// <summary>
/// A symbolic tensor of the functional API (Keras' <c>KerasTensor</c>): the output of an <see cref="Input"/> or of a
/// <see cref="Layer.Apply(SymbolicTensor, bool?)"/> call. It holds no data, only its per-sample shape and the call that
/// produces it; a <see cref="Model"/> is built from the graph of these calls.
/// </summary>
public sealed class SymbolicTensor
{
    private static long s_created;
    private readonly int[] _shape;

    internal SymbolicTensor(Layer layer, SymbolicTensor[] inputs, int[] shape, bool? training)
    {
        Layer = layer;
        Inputs = inputs;
        _shape = shape;
        Training = training;
        Id = Interlocked.Increment(ref s_created);
    }

    /// <summary>Per-sample shape (without the batch dimension), e.g. (80, 80, 16).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The layer whose call produced this tensor (an <see cref="Input"/> for a graph source).</summary>
    public Layer Layer { get; }

    /// <summary>The tensors the producing call consumed, in argument order (empty for an <see cref="Input"/>).</summary>
    internal SymbolicTensor[] Inputs { get; }

    /// <summary>The tensors the producing call consumed, in argument order (empty for an <see cref="Input"/>): with
    /// <see cref="Layer"/> this is the model graph, for tools that walk it (e.g. ONNX export).</summary>
    public IReadOnlyList<SymbolicTensor> InboundTensors => Inputs;

    /// <summary>The call's <c>training</c> argument: null follows the model, false forces inference mode.</summary>
    internal bool? Training { get; }

    /// <summary>Creation order: a tensor is always created after its inputs, so sorting by it is a topological order.</summary>
    internal long Id { get; }

    /// <summary>Keras style: <c>&lt;SymbolicTensor shape=(None, 80, 80, 16), layer=conv2d&gt;</c>.</summary>
    public override string ToString() => $"<SymbolicTensor shape={Layer.Fmt(_shape, batch: true)}, layer={Describe()}>";

    internal string Describe() => Layer.Name.Length > 0 ? $"'{Layer.Name}' ({Layer.TypeName})" : Layer.TypeName;
}
