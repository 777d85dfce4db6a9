namespace ConvNet.Onnx;

/// <summary>
/// Reads ONNX CNNs (opset 7 to 21) into ConvNet models. NCHW weights become NHWC: Conv weights (F, C, KH, KW) → (KH, KW, C, F);
/// a Gemm after an NCHW Flatten gets its rows permuted to ConvNet's NHWC flatten order. BatchNormalization is folded
/// into the preceding Conv or Gemm (inference form). Pads equal to TF's Same placement become <see cref="Padding.Same"/>, zero
/// pads <see cref="Padding.Valid"/>; other pads need zero padding in front of the op.
/// <list type="bullet">
/// <item>Malformed, truncated or lying files: <see cref="InvalidDataException"/> naming the file (sizes are checked before anything large is allocated).</item>
/// <item>Unsupported ops or attributes: one <see cref="NotSupportedException"/> listing every such node with op type, name and reason.</item>
/// </list>
/// </summary>
public static class OnnxImporter
{
    /// <summary>Loads an ONNX model whose graph is a chain of layers ConvNet has, as a <see cref="Sequential"/> (NHWC input).</summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model (truncated, corrupt, sizes that do not match, a cycle, two inputs, …).</exception>
    /// <exception cref="NotSupportedException">The graph uses ops, attributes or a topology ConvNet cannot represent; the message lists every node concerned.</exception>
    public static Sequential Load(string path)
    {
        var graph = OnnxGraphConverter.Convert(OnnxFile.Read(path));
        if (!graph.IsChain)
        {
            var steps = graph.Steps.Where(s => s is AddStep or ZeroPadStep).Select(s => $"'{s.Name}' ({(s is AddStep ? "Add of two tensors" : "asymmetric or explicit padding")})").ToList();
            throw new NotSupportedException($"ONNX file '{path}' is not a chain of ConvNet layers and cannot be returned as a Sequential" +
                (steps.Count > 0 ? $": {string.Join(", ", steps.Take(5))}{(steps.Count > 5 ? ", …" : "")} need the functional Model, Add and ZeroPadding2D, which ConvNet.Core does not have yet." : " (it branches)."));
        }
        return graph.ToSequential();
    }

    /// <summary>Converts any supported graph (including branches, Add and explicit padding) to the internal runnable form.</summary>
    internal static ImportedGraph LoadGraph(string path) => OnnxGraphConverter.Convert(OnnxFile.Read(path));

    internal static ImportedGraph LoadGraph(byte[] bytes, string source) => OnnxGraphConverter.Convert(OnnxFile.Parse(bytes, source));
}
