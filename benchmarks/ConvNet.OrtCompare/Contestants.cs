using ConvNet.Onnx;

namespace ConvNet.OrtCompare;

/// <summary>
/// One model and its ONNX forms: ConvNet's own export as NHWC (the user's layout) and as NCHW, plus optionally an original
/// ONNX file (NCHW). <see cref="Create"/> makes the runners of one case: ConvNet first, then the ORT sessions.
/// </summary>
internal sealed class Contestants
{
    private readonly Model _model;
    private readonly byte[] _nhwc, _nchw;
    private readonly string? _originalPath;
    private readonly Func<int, Tensor> _input;

    private Contestants(string name, Model model, Func<int, Tensor> input, string? originalPath)
    {
        Name = name;
        _model = model;
        _input = input;
        _originalPath = originalPath;
        _nhwc = OnnxExporter.ToBytes(model, layout: OnnxLayout.Nhwc);
        _nchw = OnnxExporter.ToBytes(model, layout: OnnxLayout.Nchw);
    }

    /// <summary>Model name in the report.</summary>
    public string Name { get; }

    /// <summary>What each runner label means, for the JSON.</summary>
    public IReadOnlyDictionary<string, string> Variants => new Dictionary<string, string>
    {
        ["convnet"] = "ConvNet model.Call(x), NHWC, model.Threads = t",
        ["ort_nhwc"] = "ORT on ConvNet's OnnxExporter export, OnnxLayout.Nhwc (NHWC input, Transpose inside the graph)",
        ["ort_nchw"] = "ORT on ConvNet's OnnxExporter export, OnnxLayout.Nchw (NCHW input)",
        ["ort_original"] = "ORT on the package's original ResNet18.onnx (NCHW input; it declares batch 1, so for B > 1 a copy with a symbolic batch dimension)",
    }.Where(kv => kv.Key != "ort_original" || _originalPath is not null).ToDictionary();

    /// <summary>The lecture's Mandarin CNN (Applications.MandarinCnn, 80×80×1 → 57 logits) on random 0–255 images.</summary>
    public static Contestants Mandarin() =>
        new("mandarin", Applications.MandarinCnn(), b => Random([b, 80, 80, 1], 1, 0, 255), null);

    /// <summary>
    /// ImageNet ResNet-18 as PretrainedModels.ResNet18ImageNet imports it (224×224×3 → 1×1×512), on random 0–255 RGB images
    /// put through the package's preprocessing (BGR minus the mean image); the original file runs as a second ORT row.
    /// </summary>
    /// <exception cref="FileNotFoundException">The package is not restored (the message names it).</exception>
    public static Contestants ResNet18(string? modelsDir, bool foldBatchNorm)
    {
        var model = PretrainedModels.ResNet18ImageNet(modelsDir, foldBatchNorm);
        var prep = PretrainedModels.ResNet18ImageNetPreprocessing(modelsDir);
        string dir = modelsDir ?? PretrainedModels.FindResNet18Directory()!;
        return new("resnet18", model, b => prep.Apply(Random([b, 224, 224, 3], 2, 0, 255)), Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx"));
    }

    /// <summary>Runners for batch <paramref name="batch"/> at <paramref name="threads"/> threads: ConvNet first.</summary>
    public List<IRunner> Create(int batch, int threads)
    {
        _model.Threads = threads;
        var x = _input(batch);
        int h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        var nhwc = x.ToArray();
        var nchw = NhwcToNchw(nhwc, batch, h, w, c);
        var runners = new List<IRunner>
        {
            new ConvNetRunner(_model, x),
            new OrtRunner("ort_nhwc", _nhwc, threads, nhwc, [batch, h, w, c]),
            new OrtRunner("ort_nchw", _nchw, threads, nchw, [batch, c, h, w]),
        };
        // The original file declares batch 1: other batches run a copy whose batch dimension is symbolic (same graph).
        if (_originalPath is not null)
            runners.Add(new OrtRunner("ort_original", batch == 1 ? _originalPath : BatchDim.MakeSymbolic(_originalPath), threads, (float[])nchw.Clone(), [batch, c, h, w]));
        return runners;
    }

    private static Tensor Random(int[] dims, int seed, float lo, float hi)
    {
        var t = new Tensor(dims);
        var r = new Random(seed);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = lo + (hi - lo) * (float)r.NextDouble();
        return t;
    }

    private static float[] NhwcToNchw(float[] x, int n, int h, int w, int c)
    {
        var o = new float[x.Length];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < h; y++)
                for (int z = 0; z < w; z++)
                    for (int k = 0; k < c; k++)
                        o[((b * c + k) * h + y) * w + z] = x[((b * h + y) * w + z) * c + k];
        return o;
    }
}
