
namespace ConvNet.Onnx;

/// <summary>
/// The preprocessing graph that ships with ML.NET's ImageNet ResNet models (<c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>),
/// read from the file and run in NHWC: <c>Split</c> the channels (axis 1) into R, G, B, <c>Concat</c> them back as B, G, R,
/// then <c>Sub</c>tract a mean image (1, 3, H, W). Input pixels are 0–255 RGB; the output is what ResNet18.onnx expects.
/// The graph is checked node by node: any other structure is refused.
/// </summary>
public sealed class MeanImagePreprocessing
{
    private MeanImagePreprocessing(Tensor mean, bool reverse) { Mean = mean; ReversesChannels = reverse; }

    /// <summary>The mean image subtracted after the channel reordering, (H, W, C) NHWC, channels in output (BGR) order.</summary>
    public Tensor Mean { get; }

    /// <summary>True when the graph reverses the channel order (RGB → BGR).</summary>
    public bool ReversesChannels { get; }

    /// <summary>Reads and checks a Split → Concat → Sub(mean image) graph.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model.</exception>
    /// <exception cref="NotSupportedException">The graph is not of this form.</exception>
    public static MeanImagePreprocessing Load(string path)
    {
        var f = OnnxFile.Read(path);
        NotSupportedException No(string why) => new($"ONNX file '{path}' is not a channel-reorder + mean-image preprocessing graph: {why}.");
        var nodes = f.Nodes;
        if (nodes.Count is < 1 or > 3) throw No($"it has {nodes.Count} nodes");
        var dims = f.Input.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 4 || dims.Skip(1).Any(d => !d.HasDimValue || d.DimValue <= 0)) throw No("the input is not a fixed-size (N, C, H, W) image");
        int c = (int)dims[1].DimValue, h = (int)dims[2].DimValue, w = (int)dims[3].DimValue;
        string current = f.Input.Name;
        int[] order = Enumerable.Range(0, c).ToArray();
        int i = 0;
        if (nodes[i].OpType == "Split")
        {
            var split = nodes[i++];
            var axis = split.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;
            if (split.Input.Count != 1 || split.Input[0] != current || axis != 1 || split.Output.Count != c) throw No("the Split is not one channel per output along axis 1");
            if (i >= nodes.Count || nodes[i].OpType != "Concat") throw No("the Split is not followed by a Concat");
            var concat = nodes[i++];
            if ((concat.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? -1) != 1 || concat.Input.Count != c) throw No("the Concat does not join the channels along axis 1");
            order = concat.Input.Select(n => split.Output.IndexOf(n)).ToArray();
            if (order.Any(o => o < 0) || order.Distinct().Count() != c) throw No("the Concat does not use each split channel once");
            current = concat.Output[0];
        }
        if (i >= nodes.Count || nodes[i].OpType != "Sub") throw No("there is no Sub of a mean image");
        var sub = nodes[i++];
        if (sub.Input.Count != 2 || sub.Input[0] != current || f.Initializer(sub.Input[1]) is not { } meanT) throw No("the Sub does not subtract an initializer from the image");
        if (meanT.Dims.Count != 4 || meanT.Dims[0] != 1 || meanT.Dims[1] != c || meanT.Dims[2] != h || meanT.Dims[3] != w)
            throw No($"the mean image has dims [{string.Join(", ", meanT.Dims)}], not [1, {c}, {h}, {w}]");
        if (f.Graph.Output[0].Name != sub.Output[0]) throw No("the Sub is not the graph output");
        var m = OnnxFile.Floats(meanT, why => No(why));
        var mean = new Tensor(h, w, c);
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    mean.Span[(y * w + x) * c + k] = m[(k * h + y) * w + x];
        if (order.Select((o, k) => o == k).All(b => b)) return new MeanImagePreprocessing(mean, false);
        if (order.Select((o, k) => o == c - 1 - k).All(b => b)) return new MeanImagePreprocessing(mean, true);
        throw No($"channel order [{string.Join(", ", order)}] is neither identity nor reversed");
    }

    /// <summary>Applies the preprocessing to a batch (N, H, W, C) of 0–255 pixels in input (RGB) order; returns a new tensor.</summary>
    public Tensor Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int h = Mean.Shape[0], w = Mean.Shape[1], c = Mean.Shape[2];
        if (images.Shape.Rank != 4 || images.Shape[1] != h || images.Shape[2] != w || images.Shape[3] != c)
            throw new ArgumentException($"Preprocessing expects images (N, {h}, {w}, {c}), got {images.Shape}.", nameof(images));
        var y = new Tensor(images.Shape);
        var x = images.Span;
        var o = y.Span;
        var mean = Mean.Span;
        int per = h * w * c;
        for (int i = 0; i < x.Length; i += c)
            for (int k = 0; k < c; k++)
                o[i + k] = x[i + (ReversesChannels ? c - 1 - k : k)] - mean[i % per + k];
        return y;
    }
}
