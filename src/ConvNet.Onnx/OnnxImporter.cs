namespace ConvNet.Onnx;

/// <summary>
/// Reads ONNX CNNs (opset 7 to 21) into ConvNet models (NHWC input). NCHW weights become NHWC: Conv weights
/// (F, C, KH, KW) → (KH, KW, C, F); a Gemm/MatMul after an NCHW Flatten gets its rows permuted to ConvNet's NHWC flatten order.
/// Pads equal to TF's Same placement become <see cref="Padding.Same"/>, zero pads <see cref="Padding.Valid"/>, other pads a
/// <see cref="ZeroPadding2D"/> in front of a Valid op (for MaxPool only where the input is known to be ≥ 0, e.g. after ReLU).
/// BatchNormalization becomes a <see cref="BatchNormalization"/> layer with the file's statistics (exact, and trainable later),
/// or with <c>foldBatchNorm</c> is folded into the preceding Conv/Gemm (inference only; fewer ops).
/// <list type="bullet">
/// <item>Malformed, truncated or lying files: <see cref="InvalidDataException"/> naming the file (sizes are checked before anything large is allocated).</item>
/// <item>Unsupported ops or attributes: one <see cref="NotSupportedException"/> listing every such node with op type, name and reason.</item>
/// </list>
/// </summary>
public static class OnnxImporter
{
    /// <summary>Loads an ONNX model: a <see cref="Sequential"/> when the graph is a chain of layers, otherwise a functional
    /// <see cref="Model"/> (branches and merges: Add/Sum, Sub, Mul, Mean, Concat). The model takes NHWC input.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="foldBatchNorm">Fold each BatchNormalization that directly follows a convolution or Gemm into its weights and bias
    /// (the inference form) instead of keeping a BatchNormalization layer.</param>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model (truncated, corrupt, sizes that do not match, a cycle, two inputs, …).</exception>
    /// <exception cref="NotSupportedException">The graph uses ops or attributes ConvNet cannot represent; the message lists every node concerned.</exception>
    public static Model Load(string path, bool foldBatchNorm = false) => LoadGraph(path, foldBatchNorm).ToModel();

    /// <summary>Converts a file to the intermediate form (steps over NHWC values).</summary>
    internal static ImportedGraph LoadGraph(string path, bool foldBatchNorm = false) => OnnxGraphConverter.Convert(OnnxFile.Read(path), foldBatchNorm);

    internal static ImportedGraph LoadGraph(byte[] bytes, string source, bool foldBatchNorm = false) => OnnxGraphConverter.Convert(OnnxFile.Parse(bytes, source), foldBatchNorm);
}
