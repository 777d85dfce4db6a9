using ConvNet.Onnx.Protobuf;
using Google.Protobuf;

namespace ConvNet.OrtCompare;

/// <summary>Makes a fixed batch dimension of an ONNX file's inputs and outputs symbolic (<c>N</c>), so one graph runs any batch.</summary>
internal static class BatchDim
{
    /// <summary>The model's bytes with dim 0 of every graph input and output set to <c>N</c> and the recorded intermediate shapes dropped.</summary>
    public static byte[] MakeSymbolic(string path)
    {
        var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var initializers = m.Graph.Initializer.Select(i => i.Name).ToHashSet();
        foreach (var v in m.Graph.Input.Where(v => !initializers.Contains(v.Name)).Concat(m.Graph.Output))
            if (v.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
                shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        m.Graph.ValueInfo.Clear();   // shapes inferred for batch 1
        return m.ToByteArray();
    }
}
