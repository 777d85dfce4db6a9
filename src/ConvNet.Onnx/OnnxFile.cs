using System.Runtime.InteropServices;
using ConvNet.Onnx.Protobuf;
using Google.Protobuf;

namespace ConvNet.Onnx;

/// <summary>
/// Reads and validates an ONNX file before anything is converted: protobuf well-formed, IR and opset in range,
/// one graph input, no external data, every node's inputs defined (nodes sorted topologically; a cycle is an error),
/// and every initializer's data size equal to what its dims say (checked before any array of that size is allocated).
/// Malformed files give <see cref="InvalidDataException"/> naming the file.
/// </summary>
internal sealed class OnnxFile
{
    /// <summary>Opsets the importer accepts (default domain).</summary>
    public const int MinOpset = 7, MaxOpset = 21;

    private readonly Dictionary<string, TensorProto> _initializers = [];

    private OnnxFile(string source, ModelProto model)
    {
        Source = source;
        Model = model;
    }

    /// <summary>The file name (or description) used in error messages.</summary>
    public string Source { get; }
    public ModelProto Model { get; }
    public GraphProto Graph => Model.Graph;
    /// <summary>The default-domain opset.</summary>
    public int Opset { get; private set; }
    /// <summary>The graph's one real input (not an initializer).</summary>
    public ValueInfoProto Input { get; private set; } = null!;
    /// <summary>The nodes in a topological order.</summary>
    public IReadOnlyList<NodeProto> Nodes { get; private set; } = [];

    public static OnnxFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"ONNX file '{path}' was not found.", path, e);
        }
        return Parse(bytes, path);
    }

    public static OnnxFile Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"ONNX file '{source}' is not a valid ONNX protobuf (truncated or corrupt): {e.Message}", e);
        }
        var f = new OnnxFile(source, model);
        f.Validate();
        return f;
    }

    public InvalidDataException Invalid(string why) => new($"ONNX file '{Source}': {why}");

    private void Validate()
    {
        if (Model.Graph is null) throw Invalid("it has no graph (truncated, or not an ONNX model).");
        if (Model.IrVersion < 3) throw Invalid($"IR version {Model.IrVersion} is not supported (3 or later; the file may be truncated or not an ONNX model).");
        var opsets = Model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (opsets.Count != 1) throw Invalid("it declares no default-domain opset (opset_import; the file may be truncated).");
        long opset = opsets[0].Version;
        if (opset is < MinOpset or > MaxOpset) throw Invalid($"opset {opset} is not supported; the importer reads opsets {MinOpset} to {MaxOpset}.");
        Opset = (int)opset;

        foreach (var t in Graph.Initializer)
        {
            if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
                throw Invalid($"initializer '{t.Name}' keeps its data in an external file; external-data models are not supported (save the model with all tensors inside the .onnx file).");
            if (!_initializers.TryAdd(t.Name, t)) throw Invalid($"initializer '{t.Name}' is defined twice.");
            CheckSize(t);
        }
        foreach (var n in Graph.Node)
            foreach (var a in n.Attribute)
                if (a.T is not null) CheckSize(a.T);

        var inputs = Graph.Input.Where(i => !_initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw Invalid($"the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}); a ConvNet model has exactly one.");
        Input = inputs[0];
        if (Graph.Output.Count != 1)
            throw Invalid($"the graph has {Graph.Output.Count} outputs; a ConvNet model has exactly one.");
        if (Graph.Output[0].Name.Length == 0 || Input.Name.Length == 0) throw Invalid("the graph input or output has no name.");
        Nodes = Sort();
    }

    /// <summary>Kahn's algorithm over value names; a node whose inputs never become available is on a cycle or reads an undefined value.</summary>
    private List<NodeProto> Sort()
    {
        var available = new HashSet<string>(_initializers.Keys) { Input.Name, "" };
        var producers = new Dictionary<string, NodeProto>();
        foreach (var n in Graph.Node)
            foreach (var o in n.Output)
                if (o.Length > 0 && (!producers.TryAdd(o, n) || available.Contains(o)))
                    throw Invalid($"value '{o}' (output of node {Describe(n)}) is defined more than once.");
        var pending = Graph.Node.ToList();
        var sorted = new List<NodeProto>(pending.Count);
        while (pending.Count > 0)
        {
            int before = sorted.Count;
            pending.RemoveAll(n =>
            {
                if (!n.Input.All(available.Contains)) return false;
                sorted.Add(n);
                foreach (var o in n.Output) available.Add(o);
                return true;
            });
            if (sorted.Count == before)
            {
                var stuck = pending[0];
                var missing = stuck.Input.First(i => !available.Contains(i));
                throw Invalid(producers.ContainsKey(missing)
                    ? $"the graph has a cycle: node {Describe(stuck)} depends on its own output through '{missing}'."
                    : $"node {Describe(stuck)} reads '{missing}', which no node, initializer or input defines.");
            }
        }
        if (!available.Contains(Graph.Output[0].Name))
            throw Invalid($"the graph output '{Graph.Output[0].Name}' is not produced by any node.");
        return sorted;
    }

    public static string Describe(NodeProto n) => n.Name.Length > 0 ? $"'{n.Name}' ({n.OpType})" : $"{n.OpType} → '{n.Output.FirstOrDefault()}'";

    /// <summary>Element count from dims, with overflow and negative-dim checks.</summary>
    private long Count(TensorProto t)
    {
        long count = 1;
        foreach (var d in t.Dims)
        {
            if (d < 0) throw Invalid($"tensor '{t.Name}' has a negative dimension {d}.");
            try { count = checked(count * d); }
            catch (OverflowException) { throw Invalid($"tensor '{t.Name}' has dims [{string.Join(", ", t.Dims)}] whose product overflows."); }
        }
        return count;
    }

    private static int ElementSize(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 => 4,
        TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Double => 8,
        _ => 0,
    };

    /// <summary>The data the file holds must be exactly what the dims say, so later allocations are bounded by the file's size.</summary>
    private void CheckSize(TensorProto t)
    {
        long count = Count(t);
        int size = ElementSize(t.DataType);
        long held = t.RawData.Length > 0 ? (size == 0 ? -1 : t.RawData.Length / size)
            : (TensorProto.Types.DataType)t.DataType switch
            {
                TensorProto.Types.DataType.Float => t.FloatData.Count,
                TensorProto.Types.DataType.Int64 => t.Int64Data.Count,
                TensorProto.Types.DataType.Int32 => t.Int32Data.Count,
                TensorProto.Types.DataType.Double => t.DoubleData.Count,
                _ => -1,
            };
        if (held < 0) return; // a type the importer never reads as numbers; refused where it is used
        if (t.RawData.Length > 0 && t.RawData.Length % size != 0 || held != count)
            throw Invalid($"tensor '{t.Name}' has dims [{string.Join(", ", t.Dims)}] ({count} values) but holds {(t.RawData.Length > 0 ? $"{t.RawData.Length} bytes of raw_data" : $"{held} values")}.");
    }

    public bool IsInitializer(string name) => _initializers.ContainsKey(name);

    public TensorProto? Initializer(string name) => _initializers.GetValueOrDefault(name);

    /// <summary>A float tensor's values (sizes were checked in <see cref="Validate"/>).</summary>
    public static float[] Floats(TensorProto t, Func<string, Exception> error)
    {
        switch ((TensorProto.Types.DataType)t.DataType)
        {
            case TensorProto.Types.DataType.Float:
                if (t.RawData.Length > 0)
                {
                    var a = new float[t.RawData.Length / 4];
                    t.RawData.Span.CopyTo(MemoryMarshal.AsBytes(a.AsSpan()));
                    if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian.");
                    return a;
                }
                return t.FloatData.ToArray();
            case TensorProto.Types.DataType.Double:
                return t.RawData.Length > 0
                    ? MemoryMarshal.Cast<byte, double>(t.RawData.Span).ToArray().Select(d => (float)d).ToArray()
                    : t.DoubleData.Select(d => (float)d).ToArray();
            default:
                throw error($"tensor '{t.Name}' has element type {(TensorProto.Types.DataType)t.DataType}; float weights are expected");
        }
    }

    /// <summary>An integer tensor's values (shapes, axes, pads).</summary>
    public static long[] Longs(TensorProto t, Func<string, Exception> error) => (TensorProto.Types.DataType)t.DataType switch
    {
        TensorProto.Types.DataType.Int64 => t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : t.Int64Data.ToArray(),
        TensorProto.Types.DataType.Int32 => t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray().Select(i => (long)i).ToArray() : t.Int32Data.Select(i => (long)i).ToArray(),
        _ => throw error($"tensor '{t.Name}' has element type {(TensorProto.Types.DataType)t.DataType}; integers are expected"),
    };
}
