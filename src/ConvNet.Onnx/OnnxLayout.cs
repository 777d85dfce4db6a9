namespace ConvNet.Onnx;

/// <summary>
/// Memory layout of the image tensors at the boundary of an exported ONNX graph. Inside the graph every
/// image tensor is NCHW (the layout ONNX's Conv, MaxPool and friends define); ConvNet itself is NHWC.
/// </summary>
public enum OnnxLayout
{
    /// <summary>
    /// The graph takes (N, H, W, C) input like ConvNet (a Transpose to NCHW is the first node) and gives image-shaped
    /// outputs back as (N, H, W, C). Feed it exactly what <c>Sequential.Predict</c> takes.
    /// </summary>
    Nhwc,
    /// <summary>
    /// The graph takes (N, C, H, W) input and gives image-shaped outputs as (N, C, H, W), like models exported from
    /// PyTorch; no Transpose at the input. Flatten still follows ConvNet's NHWC order, so Dense weights line up.
    /// </summary>
    Nchw,
}
