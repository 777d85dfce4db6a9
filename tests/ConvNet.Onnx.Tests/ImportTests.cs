using ConvNet.Onnx.Protobuf;
using Google.Protobuf;
using static ConvNet.Onnx.OnnxGraphBuilder;

namespace ConvNet.Onnx.Tests;

/// <summary>
/// Import: ConvNet → ONNX → ConvNet is bit-identical; hand-written NCHW graphs with the patterns other exporters use
/// (NCHW flatten before Gemm, BatchNormalization, asymmetric pads, auto_pad, MatMul + Add, Reshape, Pad, Dropout)
/// give ORT's outputs within 1e-4 relative.
/// </summary>
public class ImportTests
{
    public static TheoryData<string> Models => new(ExportTests.ModelNames);

    [Theory]
    [MemberData(nameof(Models))]
    public void Round_trip_is_bit_identical(string name)
    {
        var (model, x) = ExportTests.Case(name);
        var expected = model.Predict(x);
        foreach (var layout in new[] { OnnxLayout.Nhwc, OnnxLayout.Nchw })
        {
            var graph = OnnxImporter.LoadGraph(OnnxExporter.ToBytes(model, layout: layout), name);
            if (model is Sequential) Assert.True(graph.IsChain, $"{name} ({layout}) did not import as a chain");
            var back = graph.ToModel();
            back.Threads = 1;
            // Stand-alone activation layers may come back fused into the Conv2D/Dense before them (same arithmetic);
            // dropout is written as Identity (inference graph) and does not come back.
            static bool Kept(string t) => t is not ("InputLayer" or "ReLU" or "Tanh" or "Softmax" or "Activation" or "Dropout" or "SpatialDropout2D");
            // Augmentation layers are the identity at inference and do not come back either (RandomCrop comes back as its centre Cropping2D).
            if (model is Sequential && name != "augmentation") Assert.Equal(model.Layers.Select(l => l.TypeName).Where(Kept), back.Layers.Select(l => l.TypeName).Where(Kept));
            Assert.Equal(model.CountParams(), back.CountParams());
            if (model is Sequential && layout == OnnxLayout.Nhwc && name != "augmentation")   // names come back (fused activations aside)
                Assert.All(back.Layers.Where(l => l is not Input), l => Assert.Contains(l.Name, model.Layers.Select(m => m.Name)));
            var actual = back.Predict(x);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.ToArray(), actual.ToArray()); // exact float equality
        }
    }

    [Fact]
    public void Load_returns_a_Sequential_that_trains_and_predicts()
    {
        var (model, x) = ExportTests.Case("mandarin");
        var path = Path.Combine(Path.GetTempPath(), $"convnet-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Save(model, path);
            var back = Assert.IsType<Sequential>(OnnxImporter.Load(path));
            Assert.Equal(849_977, back.CountParams());
            Assert.Equal(model.Predict(x).ToArray(), back.Predict(x).ToArray());
            back.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true));
            Assert.True(double.IsFinite(back.TrainOnBatch(x, [1, 2, 3])));
        }
        finally { File.Delete(path); }
    }

    // ---- hand-written ONNX graphs (NCHW, as PyTorch/CNTK write them) ---------------------------------------

    /// <summary>An NCHW model (input "x" of (N, c, h, w) or (N, c)) built by <paramref name="body"/>.</summary>
    internal static byte[] Graph(int opset, long[] inputDims, Func<OnnxGraphBuilder, string, string> body)
    {
        var b = new OnnxGraphBuilder("test");
        b.Graph.Input.Add(FloatValue(b.Reserve("x"), [null, .. inputDims.Select(d => (long?)d)]));
        var y = body(b, "x");
        b.Graph.Output.Add(new ValueInfoProto { Name = y });
        var m = new ModelProto { IrVersion = opset >= 13 ? 7 : 4, Graph = b.Graph };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m.ToByteArray();
    }

    internal static string W(OnnxGraphBuilder b, string stem, int seed, float scale, params long[] dims) =>
        b.Initializer(stem, TestData.Random((int)dims.Aggregate(1L, (a, d) => a * d), seed, -scale, scale), dims);

    /// <summary>Runs the ONNX bytes in ORT (NCHW) and the imported graph in ConvNet (NHWC) on the same batch; returns (rel, abs).</summary>
    internal static (double Rel, double Abs) CompareWithOrt(byte[] onnx, int[] nchwDims, int seed = 3)
    {
        var x = TestData.Random(nchwDims.Aggregate(1, (a, d) => a * d), seed);
        var (expected, outDims) = Ort.Run(onnx, x, nchwDims);
        var graph = OnnxImporter.LoadGraph(onnx, "test");
        var input = nchwDims.Length == 4 ? TestData.NchwToNhwc(x, nchwDims[0], nchwDims[1], nchwDims[2], nchwDims[3]) : x;
        var nhwc = nchwDims.Length == 4 ? new[] { nchwDims[0], nchwDims[2], nchwDims[3], nchwDims[1] } : nchwDims;
        var actual = graph.ToModel().Predict(new Tensor(input, nhwc)).ToArray();
        if (outDims.Length == 4) expected = TestData.NchwToNhwc(expected, outDims[0], outDims[1], outDims[2], outDims[3]);
        return Ort.Diff(actual, expected);
    }

    private static void AssertMatchesOrt(byte[] onnx, int[] dims)
    {
        var (rel, abs) = CompareWithOrt(onnx, dims);
        Assert.True(rel <= ExportTests.Tolerance, $"max rel {rel:E2} (abs {abs:E2})");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(13)]
    public void Nchw_flatten_before_Gemm_gets_its_rows_permuted(int opset) => AssertMatchesOrt(Graph(opset, [3, 6, 5], (b, x) =>
    {
        var c = b.Node("Conv", "conv", [x, W(b, "w", 1, 0.5f, 4, 3, 3, 3), W(b, "b", 2, 0.5f, 4)], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        var f = b.Node("Flatten", "flat", [c], Int("axis", 1));
        return b.Node("Gemm", "fc", [f, W(b, "fw", 3, 0.3f, 5, 4 * 6 * 5), W(b, "fb", 4, 0.3f, 5)], Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2f));
    }), [2, 3, 6, 5]);

    [Fact]
    public void Reshape_then_MatMul_plus_bias_is_a_Dense_layer() => AssertMatchesOrt(Graph(13, [2, 4, 4], (b, x) =>
    {
        var r = b.Node("Reshape", "r", [x, b.Int64Initializer("shape", 0, -1)]);
        var m = b.Node("MatMul", "mm", [r, W(b, "w", 5, 0.4f, 32, 6)]);
        var a = b.Node("Add", "bias", [m, W(b, "b", 6, 0.4f, 6)]);
        return b.Node("Softmax", "sm", [a], Int("axis", 1));
    }), [3, 2, 4, 4]);

    [Theory]
    [InlineData(8)]
    [InlineData(15)]
    public void BatchNormalization_is_folded_into_the_conv(int opset) => AssertMatchesOrt(Graph(opset, [3, 9, 9], (b, x) =>
    {
        var c = b.Node("Conv", "conv", [x, W(b, "w", 7, 0.5f, 5, 3, 3, 3)], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        var scale = W(b, "g", 8, 1f, 5); var beta = W(b, "beta", 9, 1f, 5); var mean = W(b, "m", 10, 0.5f, 5);
        var v = b.Initializer("v", TestData.Random(5, 11, 0.2f, 2f), 5);
        var bn = b.Node("BatchNormalization", "bn", [c, scale, beta, mean, v], Float("epsilon", 1e-3f));
        return b.Node("Relu", "relu", [bn]);
    }), [2, 3, 9, 9]);

    [Fact]
    public void Resnet_style_block_with_asymmetric_pads_and_Add() => AssertMatchesOrt(Graph(8, [3, 16, 16], (b, x) =>
    {
        // CNTK's stem: pads [3, 3, 2, 2] (extra pixel at the start, unlike TF), BN, ReLU, MaxPool pads [1, 1, 0, 0].
        var c = b.Node("Conv", "stem", [x, W(b, "w0", 12, 0.3f, 4, 3, 7, 7)], Ints("kernel_shape", 7, 7), Ints("strides", 2, 2), Ints("pads", 3, 3, 2, 2));
        var r = b.Node("Relu", "r0", [c]);
        var p = b.Node("MaxPool", "pool", [r], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        var c1 = b.Node("Conv", "c1", [p, W(b, "w1", 13, 0.3f, 4, 4, 3, 3), W(b, "b1", 14, 0.3f, 4)], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        var r1 = b.Node("Relu", "r1", [c1]);
        var c2 = b.Node("Conv", "c2", [r1, W(b, "w2", 15, 0.3f, 4, 4, 3, 3)], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        var a = b.Node("Add", "add", [c2, p]);
        var r2 = b.Node("Relu", "r2", [a]);
        var g = b.Node("GlobalAveragePool", "gap", [r2]);
        return b.Node("Flatten", "flat", [g], Int("axis", 1));
    }), [2, 3, 16, 16]);

    [Theory]
    [InlineData("SAME_UPPER")]
    [InlineData("SAME_LOWER")]
    [InlineData("VALID")]
    public void Auto_pad_variants(string autoPad) => AssertMatchesOrt(Graph(13, [2, 8, 7], (b, x) =>
    {
        var att = new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(autoPad) };
        var c = b.Node("Conv", "conv", [x, W(b, "w", 16, 0.5f, 3, 2, 4, 4)], Ints("kernel_shape", 4, 4), Ints("strides", 2, 2), att);
        return b.Node("AveragePool", "pool", [c], Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1));
    }), [2, 2, 8, 7]);

    [Fact]
    public void Pad_Dropout_Identity_Tanh_and_scalar_arithmetic() => AssertMatchesOrt(Graph(13, [2, 5, 5], (b, x) =>
    {
        var s = b.Node("Div", "div", [x, b.Initializer("k", [4f])]);
        var s2 = b.Node("Sub", "sub", [s, b.Initializer("o", [0.25f])]);
        var p = b.Node("Pad", "pad", [s2, b.Int64Initializer("pads", 0, 0, 1, 2, 0, 0, 2, 1)]);
        var c = b.Node("Conv", "conv", [p, W(b, "w", 17, 0.5f, 3, 2, 3, 3), W(b, "b", 18, 0.5f, 3)], Ints("kernel_shape", 3, 3));
        var d = b.Node("Dropout", "drop", [c]);
        var t = b.Node("Tanh", "tanh", [d]);
        var i = b.Node("Identity", "id", [t]);
        return b.Node("Mul", "mul", [b.Initializer("k2", [3f]), i]);
    }), [2, 2, 5, 5]);
}

/// <summary>More hand-written graphs: how PyTorch and older exporters spell activations, standalone BatchNormalization, Slice, GlobalMaxPool.</summary>
public class ImportPatternTests
{
    private static string Gelu(OnnxGraphBuilder b, string x, bool pytorchOrder, bool tanh)
    {
        string onePlus;
        if (tanh)
        {
            var x3 = b.Node("Pow", "pow", [x, b.Initializer("three", [3f])]);
            var poly = b.Node("Add", "poly", [b.Node("Mul", "cx3", [b.Initializer("c", [0.044715f]), x3]), x]);
            onePlus = b.Node("Add", "one_plus", [b.Initializer("one", [1f]), b.Node("Tanh", "t", [b.Node("Mul", "k", [poly, b.Initializer("kk", [MathF.Sqrt(2f / MathF.PI)])])])]);
        }
        else onePlus = b.Node("Add", "one_plus", [b.Node("Erf", "erf", [b.Node("Mul", "scaled", [x, b.Initializer("r2", [1f / MathF.Sqrt(2f)])])]), b.Initializer("one", [1f])]);
        return pytorchOrder
            ? b.Node("Mul", "gelu", [b.Node("Mul", "xp", [x, onePlus]), b.Initializer("half", [0.5f])])
            : b.Node("Mul", "gelu", [b.Node("Mul", "hx", [b.Initializer("half", [0.5f]), x]), onePlus]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Gelu_patterns_become_one_activation(bool pytorchOrder, bool tanh)
    {
        var onnx = ImportTests.Graph(13, [2, 5, 5], (b, x) =>
        {
            var c = b.Node("Conv", "conv", [x, ImportTests.W(b, "w", 1, 0.6f, 3, 2, 3, 3)], Ints("kernel_shape", 3, 3));
            return Gelu(b, c, pytorchOrder, tanh);
        });
        var g = OnnxImporter.LoadGraph(onnx, "gelu");
        Assert.Equal(tanh ? Activation.GeluApproximate : Activation.Gelu, Assert.Single(g.Steps.OfType<ConvStep>()).Activation);
        var (rel, abs) = ImportTests.CompareWithOrt(onnx, [2, 2, 5, 5]);
        Assert.True(rel <= ExportTests.Tolerance, $"max rel {rel:E2} (abs {abs:E2})");
    }

    [Fact]
    public void A_pattern_whose_inner_value_is_used_elsewhere_is_not_fused()
    {
        var onnx = ImportTests.Graph(13, [4], (b, x) =>
        {
            var s = b.Node("Sigmoid", "sig", [x]);
            var silu = b.Node("Mul", "silu", [x, s]);
            return b.Node("Add", "sum", [silu, s]); // the sigmoid is also used here
        });
        // Without the fusion: Sigmoid, Multiply, Add — still ORT's numbers.
        var g = OnnxImporter.LoadGraph(onnx, "silu");
        Assert.DoesNotContain(g.Steps, s => s is ActivationStep { Activation: Activation.Silu });
        Assert.Contains(g.Steps, s => s is MergeStep { Kind: "Multiply" });
        var (rel, _) = ImportTests.CompareWithOrt(onnx, [2, 4]);
        Assert.True(rel <= ExportTests.Tolerance);
    }

    [Fact]
    public void Activations_standalone_BatchNormalization_Slice_and_GlobalMaxPool() => Check(ImportTests.Graph(13, [3, 9, 8], (b, x) =>
    {
        var s = b.Node("Sigmoid", "sig", [x]);
        var sl = b.Node("Slice", "slice", [s, b.Int64Initializer("starts", 1, -7), b.Int64Initializer("ends", 8, long.MaxValue), b.Int64Initializer("axes", 2, 3)]);
        var bn = b.Node("BatchNormalization", "bn", [sl, ImportTests.W(b, "g", 2, 1f, 3), ImportTests.W(b, "be", 3, 1f, 3), ImportTests.W(b, "m", 4, 0.3f, 3),
            b.Initializer("v", [0.5f, 1.5f, 0.1f], 3)], Float("epsilon", 1e-3f));
        var c = b.Node("Conv", "conv", [bn, ImportTests.W(b, "w", 5, 0.5f, 4, 3, 3, 3), ImportTests.W(b, "cb", 6, 0.5f, 4)], Ints("kernel_shape", 3, 3));
        var l = b.Node("LeakyRelu", "lrelu", [c], Float("alpha", 0.01f));
        var e = b.Node("Elu", "elu", [l]);
        var se = b.Node("Selu", "selu", [e]);
        var gmp = b.Node("GlobalMaxPool", "gmp", [se]);              // (N, 4, 1, 1), no flatten: an image
        var c2 = b.Node("Conv", "conv2", [gmp, ImportTests.W(b, "w2", 7, 0.5f, 2, 4, 1, 1)], Ints("kernel_shape", 1, 1));
        return b.Node("Exp", "exp", [c2]);
    }), [2, 3, 9, 8]);

    [Fact]
    public void Opset_20_Gelu_op_and_opset_9_Slice_attributes()
    {
        Check(ImportTests.Graph(20, [6], (b, x) => b.Node("Gelu", "gelu", [b.Node("Gemm", "fc", [x, ImportTests.W(b, "w", 8, 0.5f, 6, 4)])],
            new AttributeProto { Name = "approximate", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("tanh") })), [3, 6]);
        Check(ImportTests.Graph(9, [2, 6, 6], (b, x) =>
            b.Node("Slice", "slice", [x], Ints("starts", 2, 1), Ints("ends", 5, 6), Ints("axes", 2, 3))), [2, 2, 6, 6]);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void PyTorch_flatten_pattern_Shape_Gather_Unsqueeze_Concat_Reshape(int opset) => Check(ImportTests.Graph(opset, [3, 5, 4], (b, x) =>
    {
        var c = b.Node("Conv", "conv", [x, ImportTests.W(b, "w", 9, 0.5f, 4, 3, 3, 3), ImportTests.W(b, "cb", 10, 0.5f, 4)], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        var r = b.Node("Relu", "relu", [c]);
        var shape = b.Node("Shape", "shape", [r]);
        var n = b.Node("Gather", "gather", [shape, b.Int64Initializer("zero", 0)], Int("axis", 0));
        // A scalar index gives a scalar; PyTorch unsqueezes it (axes as an attribute before opset 13, an input from 13 on).
        b.Graph.Initializer.Single(t => t.Name == "zero").Dims.Clear();
        var u = opset < 13 ? b.Node("Unsqueeze", "unsq", [n], Ints("axes", 0)) : b.Node("Unsqueeze", "unsq", [n, b.Int64Initializer("axes", 0)]);
        var target = b.Node("Concat", "cat", [u, b.Int64Initializer("minus_one", -1)], Int("axis", 0));
        var flat = b.Node("Reshape", "view", [r, target]);
        return b.Node("Gemm", "fc", [flat, ImportTests.W(b, "fw", 11, 0.3f, 3, 4 * 5 * 4), ImportTests.W(b, "fb", 12, 0.3f, 3)], Int("transB", 1));
    }), [2, 3, 5, 4]);

    private static void Check(byte[] onnx, int[] dims)
    {
        var (rel, abs) = ImportTests.CompareWithOrt(onnx, dims);
        Assert.True(rel <= ExportTests.Tolerance, $"max rel {rel:E2} (abs {abs:E2})");
    }
}
