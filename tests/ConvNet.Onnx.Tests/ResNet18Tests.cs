using System.Reflection;
using Xunit.Abstractions;

namespace ConvNet.Onnx.Tests;

/// <summary>
/// The ImageNet ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (CNTK 2.6, opset 8), imported and run by
/// ConvNet (NHWC) against ONNX Runtime running the original file (NCHW), on five drawn 224×224 images.
/// </summary>
public class ResNet18Tests(ITestOutputHelper output)
{
    internal static string ModelsDir => typeof(ResNet18Tests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DnnImageModels").Value!;
    internal static string ResNet18Path => Path.Combine(ModelsDir, "ResNet18Onnx", "ResNet18.onnx");
    internal static string PreprocessPath => Path.Combine(ModelsDir, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    private static readonly Lazy<ImportedGraph> Graph = new(() => OnnxImporter.LoadGraph(ResNet18Path));
    private static readonly Lazy<ImportedGraph> Folded = new(() => OnnxImporter.LoadGraph(ResNet18Path, foldBatchNorm: true));

    /// <summary>Five deterministic drawn RGB images (0–255), NHWC: gradient, checkerboard, rings, stripes, a disc on a sky.</summary>
    internal static Tensor Images()
    {
        const int S = 224;
        var t = new Tensor(5, S, S, 3);
        var d = t.Span;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                (float, float, float)[] px =
                [
                    (x * 255f / S, y * 255f / S, 128f),
                    ((x / 28 + y / 28) % 2 == 0 ? (230f, 40f, 40f) : (20f, 20f, 200f)),
                    (MathF.Sin(MathF.Sqrt((x - 112f) * (x - 112f) + (y - 112f) * (y - 112f)) / 6f) > 0 ? (250f, 220f, 30f) : (10f, 90f, 10f)),
                    ((x + 2 * y) % 40 < 20 ? (200f, 200f, 200f) : (60f, 30f, 10f)),
                    ((x - 90f) * (x - 90f) + (y - 130f) * (y - 130f) < 50 * 50 ? (240f, 140f, 20f) : (100f + y * 0.5f, 150f + y * 0.3f, 235f)),
                ];
                for (int i = 0; i < 5; i++)
                {
                    int o = ((i * S + y) * S + x) * 3;
                    (d[o], d[o + 1], d[o + 2]) = px[i];
                }
            }
        return t;
    }

    [Fact]
    public void The_file_has_the_expected_graph()
    {
        var f = OnnxFile.Read(ResNet18Path);
        Assert.Equal(8, f.Opset);
        Assert.Equal("Input247", f.Input.Name);
        var counts = f.Nodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(22, counts["Conv"]);
        Assert.Equal(22, counts["BatchNormalization"]);
        Assert.Equal(19, counts["Relu"]);
        Assert.Equal(9, counts["Add"]);
        var g = Graph.Value;
        Assert.Equal([224, 224, 3], g.InputShape);
        Assert.Equal([1, 1, 512], g.OutputShape);
        // 22 BatchNormalization layers with ε = 1e-5 (CNTK's 9.99999974738e-06 is 1e-5 as a float); a BN sits between
        // each Conv and ReLU, so the ReLUs stay layers unless the BNs are folded.
        Assert.Equal(22, g.Steps.OfType<BatchNormStep>().Count(b => b.Epsilon == 1e-5f));
        Assert.Equal(22, g.Steps.OfType<ConvStep>().Count(c => c.Bias is null));
        // Explicit zero padding before the stem ([3, 3, 2, 2]), the max pool ([1, 1, 0, 0]) and the 3 stride-2 3×3 convs.
        Assert.Equal([(3, 2, 3, 2), (1, 0, 1, 0), (1, 0, 1, 0), (1, 0, 1, 0), (1, 0, 1, 0)],
            g.Steps.OfType<ZeroPadStep>().Select(z => (z.Top, z.Bottom, z.Left, z.Right)));

        var folded = Folded.Value;
        Assert.Empty(folded.Steps.OfType<BatchNormStep>());
        Assert.Equal(22, folded.Steps.OfType<ConvStep>().Count(c => c.Bias is not null));
        // With the BNs folded, ReLUs that follow a conv fuse into it; those after an Add stay layers: 19 in all.
        Assert.Equal(19, folded.Steps.OfType<ConvStep>().Count(c => c.Activation == Activation.Relu) + folded.Steps.OfType<ActivationStep>().Count(a => a.Activation == Activation.Relu));
        Assert.Equal(19, g.Steps.OfType<ActivationStep>().Count(a => a.Activation == Activation.Relu));
        Assert.Equal(9, g.Steps.OfType<MergeStep>().Count(m => m.Kind == "Add"));
    }

    [Fact]
    public void Preprocessing_matches_ResNetPreprocess_onnx_in_ORT()
    {
        var prep = MeanImagePreprocessing.Load(PreprocessPath);
        Assert.True(prep.ReversesChannels);
        Assert.Equal([224, 224, 3], prep.Mean.Shape.ToArray());
        var images = Images();
        var ours = prep.Apply(images);
        var (ort, dims) = Ort.Run(PreprocessPath, TestData.NhwcToNchw(images.Span.Slice(0, 224 * 224 * 3), 1, 224, 224, 3), [1, 3, 224, 224]);
        Assert.Equal([1, 3, 224, 224], dims);
        var expected = TestData.NchwToNhwc(ort, 1, 3, 224, 224);
        Assert.Equal(expected, ours.Span.Slice(0, expected.Length).ToArray()); // one subtraction per value: exact
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Features_match_ORT_on_five_drawn_images(bool foldBatchNorm)
    {
        var prep = MeanImagePreprocessing.Load(PreprocessPath);
        var x = prep.Apply(Images());
        var model = OnnxImporter.Load(ResNet18Path, foldBatchNorm);
        Assert.IsNotType<Sequential>(model);
        var ours = model.Predict(x);
        Assert.Equal([5, 1, 1, 512], ours.Shape.ToArray());
        double worstRel = 0, worstAbs = 0;
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 2 };
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(ResNet18Path, options);
        for (int i = 0; i < 5; i++)
        {
            var sample = x.Span.Slice(i * 224 * 224 * 3, 224 * 224 * 3);
            var (ort, dims) = Ort.Run(session, TestData.NhwcToNchw(sample, 1, 224, 224, 3), [1, 3, 224, 224]);
            Assert.Equal([1, 512, 1, 1], dims);
            var (rel, abs) = Ort.Diff(ours.Span.Slice(i * 512, 512), ort);
            output.WriteLine($"image {i}: max |ConvNet − ORT| = {abs:E3}, relative to max |ORT| = {ort.Max(MathF.Abs):F3}: {rel:E3}");
            worstRel = Math.Max(worstRel, rel);
            worstAbs = Math.Max(worstAbs, abs);
        }
        output.WriteLine($"ResNet-18 (foldBatchNorm: {foldBatchNorm}), 5 images: max abs {worstAbs:E3}, max rel {worstRel:E3}");
        Assert.True(worstRel <= 1e-4, $"max rel {worstRel:E2} (abs {worstAbs:E2})");
    }

    [Fact]
    public void Round_trip_import_export_gives_ORT_the_same_features()
    {
        var model = OnnxImporter.Load(ResNet18Path);
        var exported = OnnxExporter.ToBytes(model, layout: OnnxLayout.Nchw);
        if (Environment.GetEnvironmentVariable("CONVNET_ONNX_DUMP") is { Length: > 0 } dir) File.WriteAllBytes(Path.Combine(dir, "resnet18-roundtrip.onnx"), exported);
        var x = MeanImagePreprocessing.Load(PreprocessPath).Apply(Images());
        var sample = TestData.NhwcToNchw(x.Span.Slice(3 * 224 * 224 * 3, 224 * 224 * 3), 1, 224, 224, 3);
        var (original, _) = Ort.Run(ResNet18Path, sample, [1, 3, 224, 224]);
        var (again, dims) = Ort.Run(exported, sample, [1, 3, 224, 224]);
        Assert.Equal([1, 512, 1, 1], dims);   // image-shaped output, NCHW like the original
        var (rel, abs) = Ort.Diff(again, original);
        output.WriteLine($"ResNet-18 → ConvNet → ONNX, in ORT vs the original file in ORT: max abs {abs:E3}, max rel {rel:E3}");
        Assert.True(rel <= 1e-4, $"max rel {rel:E2} (abs {abs:E2})");
        // And back into ConvNet: the same model, bit for bit.
        var again2 = OnnxImporter.LoadGraph(exported, "re-exported").ToModel();
        var nhwc = x.Gather([3]);
        Assert.Equal(model.Predict(nhwc).ToArray(), again2.Predict(nhwc).ToArray());
    }

    [Fact]
    public void Frozen_base_nested_with_training_false_trains_a_head_and_keeps_its_weights()
    {
        var baseModel = OnnxImporter.Load(ResNet18Path);
        baseModel.Trainable = false;
        var before = baseModel.GetWeights();
        var inputs = new Input(224, 224, 3);
        var features = new Flatten().Apply(baseModel.Apply(inputs, training: false));
        var model = new Model(inputs, new Dense(2).Apply(features), name: "transfer");
        Assert.Equal(0, baseModel.TrainableParamCount);
        Assert.Equal(512 * 2 + 2, model.TrainableParamCount);
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true));
        var x = MeanImagePreprocessing.Load(PreprocessPath).Apply(Images()).Gather([0, 1]);
        double first = model.TrainOnBatch(x, [0, 1]);
        double loss = first;
        for (int i = 0; i < 4; i++) loss = model.TrainOnBatch(x, [0, 1]);
        Assert.True(loss < first, $"loss {first} → {loss}");
        var after = baseModel.GetWeights();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i]);   // weights and BN statistics untouched
    }

    [Fact]
    public void PretrainedModels_finds_the_restored_package_and_explains_a_missing_one()
    {
        Assert.Equal(Path.GetFullPath(ModelsDir), Path.GetFullPath(PretrainedModels.FindResNet18Directory()!));
        var model = PretrainedModels.ResNet18ImageNet();
        Assert.Equal("resnet18_imagenet", model.Name);
        // The file's convolution weights plus BN's γ and β: 15,897,152 (CNTK's graph has a third 512-channel block, hence 9 Adds,
        // so more than torchvision's ResNet-18 without fc, 11,176,512).
        Assert.Equal(15_897_152, model.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length));
        var x = PretrainedModels.ResNet18ImageNetPreprocessing().Apply(Images()).Gather([2]);
        Assert.Equal(OnnxImporter.Load(ResNet18Path).Predict(x).ToArray(), model.Predict(x).ToArray());
        var e = Assert.Throws<FileNotFoundException>(() => PretrainedModels.ResNet18ImageNet("/nonexistent/DnnImageModels"));
        Assert.Contains("/nonexistent/DnnImageModels/ResNet18Onnx/ResNet18.onnx", e.Message);
    }
}
