using System.Runtime.InteropServices;
using ConvNet.Onnx.Protobuf;
using Google.Protobuf;

namespace ConvNet.Onnx;

/// <summary>Appends nodes and initializers to an ONNX graph with unique value names.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = [];

    public OnnxGraphBuilder(string name) => Graph = new GraphProto { Name = name };

    public GraphProto Graph { get; }

    /// <summary>A value name not used yet: <paramref name="stem"/>, then <c>stem_1</c>, <c>stem_2</c>, ….</summary>
    public string Unique(string stem)
    {
        if (_names.Add(stem)) return stem;
        for (int i = 1; ; i++)
            if (_names.Add($"{stem}_{i}")) return $"{stem}_{i}";
    }

    /// <summary>Reserves a name given by the caller (graph inputs).</summary>
    public string Reserve(string name) => _names.Add(name) ? name : throw new InvalidOperationException($"ONNX value name '{name}' is used twice.");

    /// <summary>A float initializer (stored little-endian in raw_data).</summary>
    public string Initializer(string stem, ReadOnlySpan<float> data, params long[] dims)
    {
        var t = new TensorProto { Name = Unique(stem), DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        Graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>An int64 initializer (shapes, axes).</summary>
    public string Int64Initializer(string stem, params long[] values)
    {
        var t = new TensorProto { Name = Unique(stem), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        Graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>Adds a node with one output named after <paramref name="stem"/>; returns the output's name.</summary>
    public string Node(string opType, string stem, string[] inputs, params AttributeProto[] attributes)
    {
        var output = Unique(stem);
        var node = new NodeProto { OpType = opType, Name = Unique(stem + "/" + opType) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A float tensor value type with the given dims; null entries become the symbolic batch dimension <c>N</c>.</summary>
    public static ValueInfoProto FloatValue(string name, params long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is long v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
