using ConvNet.Onnx.Protobuf;

namespace ConvNet.Onnx;

/// <summary>
/// Converts a validated ONNX graph (NCHW) into an <see cref="ImportedGraph"/> (NHWC). Every node that cannot be converted
/// is collected, and one <see cref="NotSupportedException"/> lists them all with op type, node name and reason.
/// </summary>
internal sealed class OnnxGraphConverter
{
    /// <summary>A value of the graph: ConvNet id and per-sample shape, and how the ONNX tensor relates to it.</summary>
    private sealed record Val(int Id, int[] Shape)
    {
        public bool IsImage => Shape.Length == 3;
        /// <summary>Image whose ONNX tensor is (N, H, W, C), e.g. after a Transpose; otherwise images are NCHW in ONNX.</summary>
        public bool OnnxNhwc { get; init; }
        /// <summary>A flat value in ONNX's NCHW flatten order (C, H, W): a following Gemm/MatMul gets its rows permuted.</summary>
        public (int C, int H, int W)? FlatFromNchw { get; init; }
        /// <summary>Known to be ≥ 0 (after ReLU): zero padding then equals max pooling's implicit −∞ padding.</summary>
        public bool NonNegative { get; init; }
        public Step? Producer { get; init; }
    }

    private sealed class NodeException(string message) : Exception(message);

    private static readonly HashSet<string> Supported =
    [
        "Conv", "BatchNormalization", "Relu", "Tanh", "Softmax", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape",
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Identity", "Dropout", "Transpose", "Pad", "Constant",
        "Sigmoid", "Exp", "Elu", "Selu", "LeakyRelu", "Gelu", "GlobalMaxPool", "Slice", "Sum", "Mean", "Concat",
    ];

    /// <summary>Domain of the nodes <see cref="OnnxPatterns"/> makes from multi-node activations (SiLU, GELU).</summary>
    internal const string FusedDomain = "convnet.fused";

    private readonly OnnxFile _file;
    private readonly Dictionary<string, Val> _vals = [];
    private readonly Dictionary<string, TensorProto> _consts = [];
    private readonly Dictionary<string, int> _uses = [];
    private readonly Dictionary<string, List<NodeProto>> _consumers = [];
    private readonly HashSet<string> _poisoned = [];
    private readonly HashSet<string> _names = [];
    private readonly Dictionary<int, int[]> _shapes = [];
    private readonly List<Step> _steps = [];
    private readonly List<string> _problems = [];
    private int _nextId;
    private NodeProto _node = null!;

    private readonly bool _foldBatchNorm;

    private OnnxGraphConverter(OnnxFile file, bool foldBatchNorm) { _file = file; _foldBatchNorm = foldBatchNorm; }

    public static ImportedGraph Convert(OnnxFile file, bool foldBatchNorm = false) => new OnnxGraphConverter(file, foldBatchNorm).Run();

    private ImportedGraph Run()
    {
        foreach (var t in _file.Graph.Initializer) _consts[t.Name] = t;
        foreach (var n in _file.Nodes)
            if (n.OpType == "Constant" && Attr(n, "value")?.T is { } ct && n.Output.Count == 1) _consts.TryAdd(n.Output[0], ct);
        var nodes = OnnxPatterns.Fuse(_file.Nodes, _consts, _file.Graph.Output[0].Name);
        foreach (var n in nodes)
            foreach (var i in n.Input)
            {
                _uses[i] = _uses.GetValueOrDefault(i) + 1;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                list.Add(n);
            }
        var outName = _file.Graph.Output[0].Name;
        _uses[outName] = _uses.GetValueOrDefault(outName) + 1;

        var input = GraphInput();
        foreach (var n in nodes)
        {
            _node = n;
            if (n.Domain == FusedDomain)
            {
                if (n.Input.Any(_poisoned.Contains)) { Poison(n); continue; }
                try { Activate(n.OpType == "Silu" ? Activation.Silu : Str(n, "approximate", "none") == "tanh" ? Activation.GeluApproximate : Activation.Gelu); }
                catch (NodeException e) { Problem(e.Message); }
                continue;
            }
            if (!Supported.Contains(n.OpType) || n.Domain is not ("" or "ai.onnx"))
            {
                Problem(n.Domain is "" or "ai.onnx" ? "this operator is not supported" : $"operators of domain '{n.Domain}' are not supported");
                continue;
            }
            if (n.Input.Any(_poisoned.Contains)) { Poison(n); continue; }
            try { ConvertNode(n); }
            catch (NodeException e) { Problem(e.Message); }
        }
        if (_problems.Count > 0)
            throw new NotSupportedException($"ONNX file '{_file.Source}' has {_problems.Count} node(s) ConvNet cannot import:\n  " + string.Join("\n  ", _problems));
        if (_consts.ContainsKey(outName) && !_vals.ContainsKey(outName))
            throw _file.Invalid($"the graph output '{outName}' is a constant.");
        var output = _vals[outName];
        return new ImportedGraph
        {
            Name = _file.Graph.Name.Length > 0 ? _file.Graph.Name : "onnx",
            InputShape = input.Shape, OutputShape = output.Shape, InputId = input.Id, OutputId = output.Id,
            Steps = _steps, Shapes = _shapes,
        };
    }

    private void Problem(string why)
    {
        _problems.Add($"node {OnnxFile.Describe(_node)}: {why}");
        Poison(_node);
    }

    private void Poison(NodeProto n) { foreach (var o in n.Output) _poisoned.Add(o); }

    private Val NewVal(int[] shape, Step? producer = null)
    {
        var v = new Val(_nextId++, shape) { Producer = producer };
        _shapes[v.Id] = shape;
        return v;
    }

    private Val GraphInput()
    {
        var i = _file.Input;
        var tt = i.Type?.TensorType ?? throw _file.Invalid($"graph input '{i.Name}' is not a tensor.");
        if (tt.ElemType != (int)TensorProto.Types.DataType.Float)
            throw new NotSupportedException($"ONNX file '{_file.Source}': graph input '{i.Name}' has element type {(TensorProto.Types.DataType)tt.ElemType}; only float is supported.");
        var dims = tt.Shape?.Dim ?? throw _file.Invalid($"graph input '{i.Name}' has no shape.");
        if (dims.Count is not (2 or 4))
            throw new NotSupportedException($"ONNX file '{_file.Source}': graph input '{i.Name}' has rank {dims.Count}; (N, C, H, W) images or (N, features) are supported.");
        var sizes = new int[dims.Count - 1];
        for (int d = 1; d < dims.Count; d++)
        {
            if (!dims[d].HasDimValue || dims[d].DimValue <= 0 || dims[d].DimValue > 1 << 20)
                throw new NotSupportedException($"ONNX file '{_file.Source}': graph input '{i.Name}' dimension {d} is '{dims[d].DimParam}{(dims[d].HasDimValue ? dims[d].DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "")}'; every dimension but the batch must be a fixed positive size.");
            sizes[d - 1] = (int)dims[d].DimValue;
        }
        if (sizes.Aggregate(1L, (a, d) => a * d) > int.MaxValue / 16)
            throw new NotSupportedException($"ONNX file '{_file.Source}': graph input '{i.Name}' has {sizes.Aggregate(1L, (a, d) => a * d)} values per sample; too large.");
        Val v;
        if (sizes.Length == 3)
        {
            // NCHW (ONNX's convention) unless ConvNet's exporter recorded NHWC, or the graph itself transposes the input to NCHW.
            var recorded = _file.Model.MetadataProps.FirstOrDefault(p => p.Key == OnnxExporter.InputLayoutKey)?.Value;
            bool nhwc = recorded is not null ? recorded == "NHWC" : TransposedToNchw(i.Name);
            v = NewVal(nhwc ? sizes : [sizes[1], sizes[2], sizes[0]]) with { OnnxNhwc = nhwc };
        }
        else v = NewVal(sizes);
        _vals[i.Name] = v;
        return v;
    }

    /// <summary>True when every path from <paramref name="name"/> through elementwise ops reaches a Transpose [0, 3, 1, 2] first.</summary>
    private bool TransposedToNchw(string name)
    {
        var consumers = _consumers.GetValueOrDefault(name) ?? [];
        if (consumers.Count == 0) return false;
        foreach (var n in consumers)
        {
            if (n.OpType == "Transpose") { if (!Ints(n, "perm", []).SequenceEqual([0, 3, 1, 2])) return false; }
            else if (n.OpType is "Mul" or "Add" or "Sub" or "Div" or "Identity" or "Relu" or "Tanh" or "Dropout" && n.Output.Count > 0)
            {
                if (!TransposedToNchw(n.Output[0])) return false;
            }
            else return false;
        }
        return true;
    }

    // ---- attributes -------------------------------------------------------------------------------------

    private static AttributeProto? Attr(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

    private static long[] Ints(NodeProto n, string name, long[] dflt) => Attr(n, name) is { } a ? a.Ints.ToArray() : dflt;

    private static long Int(NodeProto n, string name, long dflt) => Attr(n, name) is { } a ? a.I : dflt;

    private static float Float(NodeProto n, string name, float dflt) => Attr(n, name) is { } a ? a.F : dflt;

    private static string Str(NodeProto n, string name, string dflt) => Attr(n, name) is { } a ? a.S.ToStringUtf8() : dflt;

    /// <summary>Refuses attributes the converter does not know for this op.</summary>
    private void Known(params string[] names)
    {
        var unknown = _node.Attribute.Select(a => a.Name).Where(a => !names.Contains(a)).ToList();
        if (unknown.Count > 0) throw Fail($"attribute(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} not supported");
    }

    private static NodeException Fail(string why) => new(why);

    // ---- values ------------------------------------------------------------------------------------------

    private Val In(int index)
    {
        var name = index < _node.Input.Count ? _node.Input[index] : "";
        if (name.Length == 0) throw Fail($"input {index} is missing");
        if (_vals.TryGetValue(name, out var v)) return v;
        throw Fail(_consts.ContainsKey(name) ? $"input '{name}' is a constant where a computed tensor is expected" : $"input '{name}' is unknown");
    }

    private bool IsConst(int index) => index < _node.Input.Count && _consts.ContainsKey(_node.Input[index]);

    private TensorProto Const(int index, string what)
    {
        var name = index < _node.Input.Count ? _node.Input[index] : "";
        return _consts.TryGetValue(name, out var t) ? t : throw Fail($"the {what} (input {index}) must be an initializer or Constant");
    }

    private float[] Floats(TensorProto t) => OnnxFile.Floats(t, why => Fail(why));

    private long[] Longs(TensorProto t) => OnnxFile.Longs(t, why => Fail(why));

    private void Output(Val v, int index = 0)
    {
        if (_node.Output.Count <= index || _node.Output[index].Length == 0) throw Fail("output is missing");
        _vals[_node.Output[index]] = v;
    }

    /// <summary>Outputs past the first must be absent or unused (Dropout's mask, MaxPool's indices, BatchNormalization's training statistics).</summary>
    private void OnlyFirstOutput()
    {
        for (int i = 1; i < _node.Output.Count; i++)
            if (_node.Output[i].Length > 0 && _uses.GetValueOrDefault(_node.Output[i]) > 0)
                throw Fail($"output {i} ('{_node.Output[i]}') is used; only the first output is supported");
    }

    private int Uses(string name) => _uses.GetValueOrDefault(name);

    private string LayerName(string stem)
    {
        var s = new string((_node.Name.Length > 0 ? _node.Name : stem).Select(ch => char.IsLetterOrDigit(ch) || ch is '_' or '-' or '.' ? ch : '_').ToArray());
        if (_names.Add(s)) return s;
        for (int i = 1; ; i++)
            if (_names.Add($"{s}_{i}")) return $"{s}_{i}";
    }

    private Val AddStep(Step s, int[] shape, bool nonNegative = false)
    {
        var v = NewVal(shape, s) with { NonNegative = nonNegative };
        s.Output = v.Id;
        _steps.Add(s);
        return v;
    }

    private Val Image(int index, string op)
    {
        var x = In(index);
        if (!x.IsImage) throw Fail($"{op} needs a 4-D (N, C, H, W) input, got a rank-{x.Shape.Length + 1} tensor");
        if (x.OnnxNhwc) throw Fail($"{op} input is an (N, H, W, C) tensor here (after a Transpose); ONNX {op} reads NCHW");
        return x;
    }

    /// <summary>TF Same pads (begin, end) of one axis: the odd pixel at the end.</summary>
    private static (int, int) TfSame(int input, int kernel, int stride)
    {
        int o = (input + stride - 1) / stride;
        int total = Math.Max((o - 1) * stride + kernel - input, 0);
        return (total / 2, total - total / 2);
    }

    /// <summary>ONNX pads [top, left, bottom, right] from pads/auto_pad.</summary>
    private int[] Pads(int h, int w, int kh, int kw, int sh, int sw)
    {
        var autoPad = Str(_node, "auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET":
                var p = Ints(_node, "pads", [0, 0, 0, 0]);
                if (p.Length != 4 || p.Any(v => v < 0 || v > 1 << 16)) throw Fail($"pads [{string.Join(", ", p)}] must be 4 non-negative values for a 2-D op");
                return p.Select(v => (int)v).ToArray();
            case "VALID": return [0, 0, 0, 0];
            case "SAME_UPPER":
            case "SAME_LOWER":
                var (t, b) = TfSame(h, kh, sh);
                var (l, r) = TfSame(w, kw, sw);
                return autoPad == "SAME_UPPER" ? [t, l, b, r] : [b, r, t, l];
            default: throw Fail($"auto_pad '{autoPad}' not supported");
        }
    }

    /// <summary>Valid, Same (when the pads are exactly TF's) or explicit zero padding in front of a Valid op.</summary>
    private (Val X, Padding Padding) Padded(Val x, int[] pads, int kh, int kw, int sh, int sw, bool zeroPadOk, string why)
    {
        int h = x.Shape[0], w = x.Shape[1];
        if (pads.All(p => p == 0)) return (x, Padding.Valid);
        var (t, b) = TfSame(h, kh, sh);
        var (l, r) = TfSame(w, kw, sw);
        if (pads[0] == t && pads[1] == l && pads[2] == b && pads[3] == r) return (x, Padding.Same);
        if (!zeroPadOk) throw Fail($"pads [{string.Join(", ", pads)}] differ from TF's Same placement [{t}, {l}, {b}, {r}] and {why}");
        var z = new ZeroPadStep { Name = LayerName(_node.OpType) + "_pad", Inputs = [x.Id], Top = pads[0], Left = pads[1], Bottom = pads[2], Right = pads[3] };
        return (AddStep(z, [h + pads[0] + pads[2], w + pads[1] + pads[3], x.Shape[2]], x.NonNegative), Padding.Valid);
    }

    private static int OutSize(int input, int kernel, int stride, Padding p)
    {
        if (p == Padding.Valid) return input < kernel ? 0 : (input - kernel) / stride + 1;
        return (input + stride - 1) / stride;
    }

    private (int, int) Kernel2(string name, int[]? fromWeights = null)
    {
        var k = Ints(_node, name, fromWeights is null ? [] : [fromWeights[0], fromWeights[1]]);
        if (k.Length != 2 || k.Any(v => v <= 0 || v > 1 << 16)) throw Fail($"{name} [{string.Join(", ", k)}] must be two positive values (2-D ops only)");
        if (fromWeights is not null && (k[0] != fromWeights[0] || k[1] != fromWeights[1])) throw Fail($"kernel_shape [{string.Join(", ", k)}] does not match the weights");
        return ((int)k[0], (int)k[1]);
    }

    private (int, int) Strides()
    {
        var s = Ints(_node, "strides", [1, 1]);
        if (s.Length != 2 || s.Any(v => v <= 0 || v > 1 << 16)) throw Fail($"strides [{string.Join(", ", s)}] must be two positive values");
        return ((int)s[0], (int)s[1]);
    }

    private void NoDilation()
    {
        var d = Ints(_node, "dilations", [1, 1]);
        if (d.Any(v => v != 1)) throw Fail($"dilations [{string.Join(", ", d)}] not supported (only 1)");
    }

    // ---- nodes -------------------------------------------------------------------------------------------

    private void ConvertNode(NodeProto n)
    {
        switch (n.OpType)
        {
            case "Constant":
                Known("value");
                _consts[n.Output[0]] = Attr(n, "value")?.T ?? throw Fail("only the 'value' tensor form of Constant is supported");
                break;
            case "Identity":
                Known();
                Output(In(0));
                break;
            case "Dropout":
                Known("ratio", "seed", "is_test");
                if (n.Input.Count > 2 && n.Input[2].Length > 0 && (!IsConst(2) || Longs(Const(2, "training_mode")).Any(v => v != 0)))
                    throw Fail("training_mode must be a constant false (inference)");
                OnlyFirstOutput();
                Output(In(0)); // inference: identity
                break;
            case "Conv": Conv(); break;
            case "BatchNormalization": BatchNorm(); break;
            case "Relu": Known(); Activate(Activation.Relu); break;
            case "Tanh": Known(); Activate(Activation.Tanh); break;
            case "Sigmoid": Known(); Activate(Activation.Sigmoid); break;
            case "Exp": Known(); Activate(Activation.Exponential); break;
            case "Elu":
                Known("alpha");
                if (Float(n, "alpha", 1f) != 1f) throw Fail($"alpha {Float(n, "alpha", 1f)} not supported (only 1)");
                Activate(Activation.Elu);
                break;
            case "Selu":
                Known("alpha", "gamma");
                if (Math.Abs(Float(n, "alpha", 1.67326319217681884765625f) - 1.6732632f) > 1e-6f || Math.Abs(Float(n, "gamma", 1.05070102214813232421875f) - 1.0507010f) > 1e-6f)
                    throw Fail("only the standard SELU constants (alpha 1.67326, gamma 1.05070) are supported");
                Activate(Activation.Selu);
                break;
            case "LeakyRelu":
                Known("alpha");
                LeakyRelu(Float(n, "alpha", 0.01f));
                break;
            case "Gelu":
                Known("approximate");
                var approx = Str(n, "approximate", "none");
                if (approx is not ("none" or "tanh")) throw Fail($"approximate '{approx}' not supported");
                Activate(approx == "tanh" ? Activation.GeluApproximate : Activation.Gelu);
                break;
            case "GlobalMaxPool": GlobalPool(max: true); break;
            case "Slice": Slice(); break;
            case "Softmax": Softmax(); break;
            case "MaxPool":
            case "AveragePool": Pool(n.OpType == "MaxPool"); break;
            case "GlobalAveragePool": GlobalPool(max: false); break;
            case "Flatten":
                Known("axis");
                if (Int(n, "axis", 1) != 1) throw Fail($"axis {Int(n, "axis", 1)} not supported (only 1: (N, features))");
                Flatten(In(0));
                break;
            case "Reshape": Reshape(); break;
            case "Gemm": Gemm(); break;
            case "MatMul": MatMul(); break;
            case "Add":
            case "Sub":
            case "Mul":
            case "Div": Arithmetic(n.OpType); break;
            case "Transpose": Transpose(); break;
            case "Sum": Known(); Merge("Add", "add"); break;
            case "Mean": Known(); Merge("Average", "average"); break;
            case "Concat": Concat(); break;
            case "Pad": Pad(); break;
        }
    }

    private void Conv()
    {
        Known("kernel_shape", "strides", "pads", "auto_pad", "dilations", "group");
        var x = Image(0, "Conv");
        var wt = Const(1, "weight");
        if (wt.Dims.Count != 4) throw Fail($"weight '{wt.Name}' has rank {wt.Dims.Count}; 2-D convolution (F, C, KH, KW) expected");
        int f = (int)wt.Dims[0], c = (int)wt.Dims[1], kh = (int)wt.Dims[2], kw = (int)wt.Dims[3];
        long group = Int(_node, "group", 1);
        int cin = x.Shape[2];
        bool depthwise = group > 1 && group == cin && c == 1 && f % cin == 0;
        if (group != 1 && !depthwise)
            throw Fail($"group {group} not supported (only 1, or depthwise: group = input channels {cin} with weight (C·M, 1, KH, KW))");
        if (!depthwise && c != cin) throw Fail($"weight '{wt.Name}' expects {c} input channels but the input has {cin}");
        NoDilation();
        Kernel2("kernel_shape", [kh, kw]);
        var (sh, sw) = Strides();
        var pads = Pads(x.Shape[0], x.Shape[1], kh, kw, sh, sw);
        float[]? bias = null;
        if (_node.Input.Count > 2 && _node.Input[2].Length > 0)
        {
            var bt = Const(2, "bias");
            if (bt.Dims.Count != 1 || bt.Dims[0] != f) throw Fail($"bias '{bt.Name}' must have {f} values");
            bias = Floats(bt);
        }
        var (px, padding) = Padded(x, pads, kh, kw, sh, sw, zeroPadOk: true, "");
        int oh = OutSize(px.Shape[0], kh, sh, padding), ow = OutSize(px.Shape[1], kw, sw, padding);
        if (oh <= 0 || ow <= 0) throw Fail($"the {kh}×{kw} kernel is larger than the padded {px.Shape[0]}×{px.Shape[1]} input");
        var w = Floats(wt);
        var k = new float[w.Length];
        // (F, C, KH, KW) → (KH, KW, C, F); depthwise (C·M, 1, KH, KW) → (KH, KW, C, M), the same index arithmetic with C = 1.
        for (int o = 0; o < f; o++)
            for (int i = 0; i < c; i++)
                for (int y = 0; y < kh; y++)
                    for (int z = 0; z < kw; z++)
                        k[((y * kw + z) * c + i) * f + o] = w[((o * c + i) * kh + y) * kw + z];
        if (depthwise)
        {
            var dw = new DepthwiseStep { Name = LayerName("depthwise_conv2d"), Inputs = [px.Id], Kernel = k, Bias = bias, KH = kh, KW = kw, C = cin, M = f / cin, SH = sh, SW = sw, Padding = padding };
            Output(AddStep(dw, [oh, ow, f]));
            return;
        }
        // A bias-free depthwise conv whose only reader is a 1×1 stride-1 conv is a SeparableConv2D.
        if (x.Producer is DepthwiseStep { Bias: null, Activation: Activation.None } d && Uses(_node.Input[0]) == 1 && kh == 1 && kw == 1 && sh == 1 && sw == 1 && padding == Padding.Valid && px == x)
        {
            int at = _steps.IndexOf(d);
            var sep = new SeparableStep { Name = d.Name, Inputs = d.Inputs, Depthwise = d, Pointwise = k, Bias = bias, F = f };
            _steps.RemoveAt(at);
            var v = AddStep(sep, [oh, ow, f]);
            _steps.RemoveAt(_steps.Count - 1);
            _steps.Insert(at, sep);
            Output(v);
            return;
        }
        var step = new ConvStep { Name = LayerName("conv2d"), Inputs = [px.Id], Kernel = k, Bias = bias, KH = kh, KW = kw, C = c, F = f, SH = sh, SW = sw, Padding = padding };
        Output(AddStep(step, [oh, ow, f]));
    }

    private void BatchNorm()
    {
        Known("epsilon", "momentum", "spatial", "training_mode");
        if (Int(_node, "spatial", 1) != 1) throw Fail("spatial = 0 (per-activation statistics) not supported");
        if (Int(_node, "training_mode", 0) != 0) throw Fail("training_mode = 1 not supported (inference only)");
        OnlyFirstOutput();
        var x = In(0);
        int ch = x.IsImage ? x.Shape[2] : x.Shape[0];
        var p = new float[4][];
        string[] what = ["scale", "B", "mean", "var"];
        for (int i = 0; i < 4; i++)
        {
            var t = Const(i + 1, what[i]);
            if (t.Dims.Count != 1 || t.Dims[0] != ch) throw Fail($"{what[i]} '{t.Name}' must have {ch} values");
            p[i] = Floats(t);
        }
        float epsilon = Float(_node, "epsilon", 1e-5f);
        if (!(epsilon > 0f)) throw Fail($"epsilon {epsilon} must be positive");
        if (p[3].Any(v => !(v >= 0f))) throw Fail("the variance has negative or NaN values");
        var producer = x.Producer;
        bool single = Uses(_node.Input[0]) == 1;
        if (_foldBatchNorm && single && producer is ConvStep { Activation: Activation.None } or DenseStep { Activation: Activation.None }
            or DepthwiseStep { Activation: Activation.None } or SeparableStep { Activation: Activation.None })
        {
            // Folded into the preceding Conv or Gemm (inference form): y = (x − mean)·γ/√(var + ε) + β.
            var s = new double[ch];
            for (int j = 0; j < ch; j++) s[j] = p[0][j] / Math.Sqrt(p[3][j] + (double)epsilon);
            if (producer is ConvStep conv)
            {
                for (int i = 0; i < conv.Kernel.Length; i++) conv.Kernel[i] = (float)(conv.Kernel[i] * s[i % ch]);
                conv.Bias = Fold(conv.Bias, p, s, ch);
            }
            else if (producer is DepthwiseStep dw)
            {
                for (int i = 0; i < dw.Kernel.Length; i++) dw.Kernel[i] = (float)(dw.Kernel[i] * s[i % ch]);
                dw.Bias = Fold(dw.Bias, p, s, ch);
            }
            else if (producer is SeparableStep sp)
            {
                for (int i = 0; i < sp.Pointwise.Length; i++) sp.Pointwise[i] = (float)(sp.Pointwise[i] * s[i % ch]);
                sp.Bias = Fold(sp.Bias, p, s, ch);
            }
            else
            {
                var dense = (DenseStep)producer!;
                for (int i = 0; i < dense.Kernel.Length; i++) dense.Kernel[i] = (float)(dense.Kernel[i] * s[i % ch]);
                dense.Bias = Fold(dense.Bias, p, s, ch);
            }
            Output(x);
            return;
        }
        if (x.IsImage && x.OnnxNhwc) throw Fail("BatchNormalization input is an (N, H, W, C) tensor here (after a Transpose); ONNX normalises axis 1");
        if (x.FlatFromNchw is not null) throw Fail("BatchNormalization of features in NCHW flatten order not supported");
        // ONNX: running = running·momentum + batch·(1 − momentum), as in Keras.
        float momentum = Math.Clamp(Float(_node, "momentum", 0.9f), 0f, 1f);
        var step = new BatchNormStep { Name = LayerName("batch_normalization"), Inputs = [x.Id], Gamma = p[0], Beta = p[1], Mean = p[2], Variance = p[3], Epsilon = epsilon, Momentum = momentum };
        Output(AddStep(step, x.Shape) with { FlatFromNchw = x.FlatFromNchw });
    }

    private static float[] Fold(float[]? bias, float[][] p, double[] s, int ch)
    {
        var b = new float[ch];
        for (int j = 0; j < ch; j++) b[j] = (float)(((bias?[j] ?? 0) - (double)p[2][j]) * s[j] + p[1][j]);
        return b;
    }

    private void Activate(Activation a)
    {
        var x = In(0);
        if (Uses(_node.Input[0]) == 1)
        {
            switch (x.Producer)
            {
                case ConvStep { Activation: Activation.None } c when a != Activation.Softmax || !x.OnnxNhwc:
                    c.Activation = a;
                    Output(x with { NonNegative = NonNegative(a) });
                    return;
                case DenseStep { Activation: Activation.None } d:
                    d.Activation = a;
                    Output(x with { NonNegative = NonNegative(a) });
                    return;
                case DepthwiseStep { Activation: Activation.None } dw when a != Activation.Softmax || !x.OnnxNhwc:
                    dw.Activation = a;
                    Output(x with { NonNegative = NonNegative(a) });
                    return;
                case SeparableStep { Activation: Activation.None } sp when a != Activation.Softmax || !x.OnnxNhwc:
                    sp.Activation = a;
                    Output(x with { NonNegative = NonNegative(a) });
                    return;
            }
        }
        var step = new ActivationStep { Name = LayerName(a.ToString().ToLowerInvariant()), Inputs = [x.Id], Activation = a };
        Output(AddStep(step, x.Shape, NonNegative(a)) with { OnnxNhwc = x.OnnxNhwc, FlatFromNchw = x.FlatFromNchw });
    }

    private static bool NonNegative(Activation a) => a is Activation.Relu or Activation.Sigmoid or Activation.Exponential or Activation.Softmax;

    private void LeakyRelu(float alpha)
    {
        if (!(alpha >= 0f) || float.IsInfinity(alpha)) throw Fail($"alpha {alpha} not supported (a finite slope ≥ 0)");
        var x = In(0);
        // ConvNet's "leaky_relu" activation has slope 0.2; any other slope is a LeakyReLU layer.
        if (alpha == 0.2f && Uses(_node.Input[0]) == 1 && x.Producer is ConvStep { Activation: Activation.None } or DenseStep { Activation: Activation.None }
            or DepthwiseStep { Activation: Activation.None } or SeparableStep { Activation: Activation.None })
        {
            Activate(Activation.LeakyRelu);
            return;
        }
        var step = new LeakyReluStep { Name = LayerName("leaky_re_lu"), Inputs = [x.Id], Slope = alpha };
        Output(AddStep(step, x.Shape) with { OnnxNhwc = x.OnnxNhwc, FlatFromNchw = x.FlatFromNchw });
    }

    private void Slice()
    {
        var x = Image(0, "Slice");
        long[] starts, ends, axes, steps;
        if (_file.Opset < 10)
        {
            Known("starts", "ends", "axes");
            starts = Ints(_node, "starts", []);
            ends = Ints(_node, "ends", []);
            axes = Ints(_node, "axes", Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray());
            steps = Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        else
        {
            Known();
            starts = Longs(Const(1, "starts"));
            ends = Longs(Const(2, "ends"));
            axes = _node.Input.Count > 3 && _node.Input[3].Length > 0 ? Longs(Const(3, "axes")) : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = _node.Input.Count > 4 && _node.Input[4].Length > 0 ? Longs(Const(4, "steps")) : Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        if (starts.Length != ends.Length || axes.Length != starts.Length || steps.Length != starts.Length) throw Fail("starts, ends, axes and steps differ in length");
        int[] crop = [0, 0, 0, 0]; // top, bottom, left, right
        for (int i = 0; i < axes.Length; i++)
        {
            long axis = axes[i] < 0 ? axes[i] + 4 : axes[i];
            if (axis is not (2 or 3) || steps[i] != 1) throw Fail($"slicing axis {axes[i]} with step {steps[i]} not supported (only height and width, step 1)");
            int size = axis == 2 ? x.Shape[0] : x.Shape[1];
            long b = starts[i] < 0 ? starts[i] + size : starts[i], e = ends[i] < 0 ? ends[i] + size : ends[i];
            b = Math.Clamp(b, 0, size);
            e = Math.Clamp(e, 0, size);
            if (e <= b) throw Fail($"slice [{starts[i]}, {ends[i]}) of axis {axis} is empty");
            crop[axis == 2 ? 0 : 2] = (int)b;
            crop[axis == 2 ? 1 : 3] = size - (int)e;
        }
        var step = new CropStep { Name = LayerName("cropping2d"), Inputs = [x.Id], Top = crop[0], Bottom = crop[1], Left = crop[2], Right = crop[3] };
        Output(AddStep(step, [x.Shape[0] - crop[0] - crop[1], x.Shape[1] - crop[2] - crop[3], x.Shape[2]], x.NonNegative));
    }

    private void Softmax()
    {
        Known("axis");
        var x = In(0);
        long axis = Int(_node, "axis", _file.Opset >= 13 ? -1 : 1);
        int rank = x.Shape.Length + 1;
        if (axis < 0) axis += rank;
        if (x.FlatFromNchw is not null) throw Fail("softmax over features in NCHW flatten order not supported");
        bool channels = x.IsImage
            ? (_file.Opset >= 13 ? (x.OnnxNhwc ? axis == 3 : axis == 1) : axis == (x.OnnxNhwc ? 3 : 1) && (x.OnnxNhwc || x.Shape[0] * x.Shape[1] == 1))
            : axis == rank - 1;
        if (!channels) throw Fail($"softmax over axis {axis} of a rank-{rank} tensor not supported (only over channels/features)");
        Activate(Activation.Softmax);
    }

    private void Pool(bool max)
    {
        if (max) Known("kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode", "storage_order");
        else Known("kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad", "dilations");
        var x = Image(0, _node.OpType);
        var (kh, kw) = Kernel2("kernel_shape");
        var (sh, sw) = Strides();
        NoDilation();
        if (Int(_node, "ceil_mode", 0) != 0) throw Fail("ceil_mode = 1 not supported");
        OnlyFirstOutput();
        var pads = Pads(x.Shape[0], x.Shape[1], kh, kw, sh, sw);
        bool includePad = !max && Int(_node, "count_include_pad", 0) != 0;
        (Val X, Padding Padding) p;
        if (max) p = Padded(x, pads, kh, kw, sh, sw, x.NonNegative, "the input is not known to be non-negative (zero padding would change the maximum)");
        else if (includePad) p = pads.All(v => v == 0) ? (x, Padding.Valid) : (Padded(x, pads, kh, kw, sh, sw, true, "").X, Padding.Valid);
        else p = Padded(x, pads, kh, kw, sh, sw, false, "count_include_pad = 0 (ConvNet's Same average pooling excludes TF's padding only)");
        int oh = OutSize(p.X.Shape[0], kh, sh, p.Padding), ow = OutSize(p.X.Shape[1], kw, sw, p.Padding);
        if (oh <= 0 || ow <= 0) throw Fail($"the {kh}×{kw} window is larger than the {p.X.Shape[0]}×{p.X.Shape[1]} input");
        var step = new PoolStep { Name = LayerName(max ? "max_pooling2d" : "average_pooling2d"), Inputs = [p.X.Id], Max = max, KH = kh, KW = kw, SH = sh, SW = sw, Padding = p.Padding };
        Output(AddStep(step, [oh, ow, x.Shape[2]], max && x.NonNegative));
    }

    private void GlobalPool(bool max)
    {
        Known();
        var x = Image(0, _node.OpType);
        var outName = _node.Output[0];
        var next = _consumers.GetValueOrDefault(outName);
        string stem = max ? "global_max_pooling2d" : "global_average_pooling2d";
        // A global pool followed by Flatten/Reshape to (N, C) is ConvNet's GlobalAverage/MaxPooling2D; otherwise keep the (1, 1, C) image.
        if (Uses(outName) == 1 && next is [{ OpType: "Flatten" or "Reshape" } f] && IsFlattenToFeatures(f))
        {
            Step g = max ? new GlobalMaxPoolStep { Name = LayerName(stem), Inputs = [x.Id] } : new GlobalAveragePoolStep { Name = LayerName(stem), Inputs = [x.Id] };
            Output(AddStep(g, [x.Shape[2]], x.NonNegative));
            _gapFlat.Add(outName);
            return;
        }
        var step = new PoolStep { Name = LayerName(stem), Inputs = [x.Id], Max = max, KH = x.Shape[0], KW = x.Shape[1], SH = 1, SW = 1, Padding = Padding.Valid };
        Output(AddStep(step, [1, 1, x.Shape[2]], x.NonNegative));
    }

    private readonly HashSet<string> _gapFlat = [];

    private bool IsFlattenToFeatures(NodeProto f)
    {
        if (f.OpType == "Flatten") return Int(f, "axis", 1) == 1;
        if (f.Input.Count < 2 || !_consts.TryGetValue(f.Input[1], out var t)) return false;
        try { var s = OnnxFile.Longs(t, w => new NodeException(w)); return s.Length == 2 && s[0] is 0 or -1 or 1 && s[1] is -1 or > 0; }
        catch (NodeException) { return false; }
    }

    private void Flatten(Val x)
    {
        if (_gapFlat.Contains(_node.Input[0]) || !x.IsImage) { Output(x); return; } // already (N, features)
        int h = x.Shape[0], w = x.Shape[1], c = x.Shape[2];
        // ConvNet flattens NHWC; ONNX flattens what it holds. Equal orders when the tensor is NHWC in ONNX or C or H·W is 1.
        bool natural = x.OnnxNhwc || c == 1 || h * w == 1;
        var step = new FlattenStep { Name = LayerName("flatten"), Inputs = [x.Id] };
        Output(AddStep(step, [h * w * c], x.NonNegative) with { FlatFromNchw = natural ? null : (c, h, w) });
    }

    private void Reshape()
    {
        Known("allowzero");
        var x = In(0);
        var shape = Longs(Const(1, "shape"));
        int size = x.Shape.Aggregate(1, (a, b) => a * b);
        bool flat = shape.Length == 2 && shape[0] is 0 or -1 or 1 && (shape[1] == -1 || shape[1] == size) && !(shape[0] == -1 && shape[1] == -1);
        if (!flat) throw Fail($"reshape to [{string.Join(", ", shape)}] not supported (only flattening to (N, {size}))");
        Flatten(x);
    }

    /// <summary>Dense kernel (in, out) from ONNX B, with the rows permuted when the input is in NCHW flatten order.</summary>
    private float[] DenseKernel(Val x, float[] b, int inF, int outF, bool transB, float alpha)
    {
        var k = new float[inF * outF];
        for (int p = 0; p < inF; p++)
        {
            // p: ONNX feature index; q: the same feature in ConvNet's NHWC flatten order.
            int q = p;
            if (x.FlatFromNchw is var (c, h, w)) { int ch = p / (h * w), yx = p % (h * w); q = yx * c + ch; }
            for (int o = 0; o < outF; o++) k[q * outF + o] = alpha * (transB ? b[o * inF + p] : b[p * outF + o]);
        }
        return k;
    }

    private Val FlatInput(string op)
    {
        var x = In(0);
        if (x.IsImage || x.Shape.Length != 1) throw Fail($"{op} needs (N, features) input, got rank {x.Shape.Length + 1}; a Flatten is missing");
        return x;
    }

    private void Gemm()
    {
        Known("alpha", "beta", "transA", "transB", "broadcast");
        if (Int(_node, "transA", 0) != 0) throw Fail("transA = 1 not supported");
        var x = FlatInput("Gemm");
        var bt = Const(1, "B");
        bool transB = Int(_node, "transB", 0) != 0;
        if (bt.Dims.Count != 2) throw Fail($"B '{bt.Name}' must be 2-D");
        int inF = (int)(transB ? bt.Dims[1] : bt.Dims[0]), outF = (int)(transB ? bt.Dims[0] : bt.Dims[1]);
        if (inF != x.Shape[0]) throw Fail($"B '{bt.Name}' expects {inF} features but the input has {x.Shape[0]}");
        var k = DenseKernel(x, Floats(bt), inF, outF, transB, Float(_node, "alpha", 1f));
        float[]? bias = null;
        if (_node.Input.Count > 2 && _node.Input[2].Length > 0)
        {
            var ct = Const(2, "C");
            var c = Floats(ct);
            float beta = Float(_node, "beta", 1f);
            if (c.Length == 1) bias = Enumerable.Repeat(beta * c[0], outF).ToArray();
            else if (c.Length == outF && ct.Dims.Count <= 2 && (ct.Dims.Count < 2 || ct.Dims[0] == 1)) bias = c.Select(v => beta * v).ToArray();
            else throw Fail($"C '{ct.Name}' with dims [{string.Join(", ", ct.Dims)}] not supported (a scalar or {outF} values)");
        }
        var step = new DenseStep { Name = LayerName("dense"), Inputs = [x.Id], Kernel = k, Bias = bias, In = inF, Out = outF };
        Output(AddStep(step, [outF]));
    }

    private void MatMul()
    {
        Known();
        var x = FlatInput("MatMul");
        var bt = Const(1, "B");
        if (bt.Dims.Count != 2 || bt.Dims[0] != x.Shape[0]) throw Fail($"B '{bt.Name}' must be ({x.Shape[0]}, units)");
        int outF = (int)bt.Dims[1];
        var step = new DenseStep { Name = LayerName("dense"), Inputs = [x.Id], Kernel = DenseKernel(x, Floats(bt), x.Shape[0], outF, false, 1f), In = x.Shape[0], Out = outF };
        Output(AddStep(step, [outF]));
    }

    private void Arithmetic(string op)
    {
        Known();
        bool c0 = IsConst(0), c1 = IsConst(1);
        if (!c0 && !c1)
        {
            switch (op)
            {
                case "Add": Merge("Add", "add"); return;
                case "Sub": Merge("Subtract", "subtract"); return;
                case "Mul": Merge("Multiply", "multiply"); return;
                default: throw Fail($"{op} of two computed tensors not supported");
            }
        }
        if (c0 && c1) throw Fail($"{op} of two constants not supported (fold constants before import)");
        if (c0 && op is "Sub" or "Div") throw Fail($"constant {(op == "Sub" ? "minus" : "divided by")} a tensor not supported");
        int xi = c0 ? 1 : 0;
        var x = In(xi);
        var ct = Const(1 - xi, "constant");
        var v = Floats(ct);
        if (v.Length == 1)
        {
            float s = 1f, o = 0f;
            switch (op)
            {
                case "Add": o = v[0]; break;
                case "Sub": o = -v[0]; break;
                case "Mul": s = v[0]; break;
                case "Div": s = 1f / v[0]; break;
            }
            // Mul then Add (how ConvNet's Rescaling is written) becomes one Rescaling again.
            if (Uses(_node.Input[xi]) == 1 && x.Producer is RescaleStep { Offset: 0f } r && op is "Add" or "Sub")
            {
                r.Offset = o;
                Output(x);
                return;
            }
            var step = new RescaleStep { Name = LayerName("rescaling"), Inputs = [x.Id], Scale = s, Offset = o };
            Output(AddStep(step, x.Shape) with { OnnxNhwc = x.OnnxNhwc, FlatFromNchw = x.FlatFromNchw });
            return;
        }
        // MatMul + Add(bias) is a Dense layer with bias.
        if (op == "Add" && !x.IsImage && x.Producer is DenseStep { Bias: null, Activation: Activation.None } d && Uses(_node.Input[xi]) == 1
            && v.Length == d.Out && ct.Dims.Count <= 2 && (ct.Dims.Count < 2 || ct.Dims[0] == 1))
        {
            d.Bias = v;
            Output(x);
            return;
        }
        throw Fail($"{op} with constant '{ct.Name}' of dims [{string.Join(", ", ct.Dims)}] not supported (only scalars, and a bias after MatMul)");
    }

    /// <summary>A merge of computed tensors of one shape and one layout (no broadcasting).</summary>
    private void Merge(string kind, string stem, int axis = -1, int[]? shape = null)
    {
        if (_node.Input.Count < 2) throw Fail($"{_node.OpType} of {_node.Input.Count} input(s) not supported (at least 2)");
        var xs = Enumerable.Range(0, _node.Input.Count).Select(In).ToArray();
        var a = xs[0];
        foreach (var b in xs.Skip(1))
            if (b.OnnxNhwc != a.OnnxNhwc || b.FlatFromNchw != a.FlatFromNchw || (shape is null && !b.Shape.SequenceEqual(a.Shape)))
                throw Fail($"{_node.OpType} of shapes {string.Join(" and ", xs.Select(x => Layer.Fmt(x.Shape, true)))} not supported (no broadcasting; one layout)");
        var step = new MergeStep { Name = LayerName(stem), Inputs = xs.Select(x => x.Id).ToArray(), Kind = kind, Axis = axis };
        bool nonNegative = kind is "Add" or "Average" or "Multiply" or "Concatenate" && xs.All(x => x.NonNegative);
        Output(AddStep(step, shape ?? a.Shape, nonNegative) with { OnnxNhwc = a.OnnxNhwc, FlatFromNchw = a.FlatFromNchw });
    }

    private void Concat()
    {
        Known("axis");
        var xs = Enumerable.Range(0, _node.Input.Count).Select(In).ToArray();
        var a = xs[0];
        int rank = a.Shape.Length + 1;
        long axis = Int(_node, "axis", 1);
        if (axis < 0) axis += rank;
        if (axis <= 0 || axis >= rank) throw Fail($"axis {Int(_node, "axis", 1)} not supported (not the batch)");
        if (a.FlatFromNchw is not null) throw Fail("concatenation of features in NCHW flatten order not supported");
        // ONNX axis → the axis of ConvNet's per-sample NHWC shape.
        int sampleAxis = a.IsImage && !a.OnnxNhwc ? axis switch { 1 => 2, 2 => 0, _ => 1 } : (int)axis - 1;
        var shape = a.Shape.ToArray();
        shape[sampleAxis] = 0;
        foreach (var x in xs)
        {
            if (x.Shape.Length != a.Shape.Length || Enumerable.Range(0, shape.Length).Any(d => d != sampleAxis && x.Shape[d] != a.Shape[d]))
                throw Fail($"Concat of shapes {string.Join(" and ", xs.Select(v => Layer.Fmt(v.Shape, true)))} along axis {axis}: the other dimensions differ");
            shape[sampleAxis] += x.Shape[sampleAxis];
        }
        Merge("Concatenate", "concatenate", sampleAxis + 1, shape);
    }

    private void Transpose()
    {
        Known("perm");
        var x = In(0);
        var perm = Ints(_node, "perm", []);
        if (x.IsImage && !x.OnnxNhwc && perm.SequenceEqual([0, 2, 3, 1])) { Output(x with { OnnxNhwc = true }); return; }
        if (x.IsImage && x.OnnxNhwc && perm.SequenceEqual([0, 3, 1, 2])) { Output(x with { OnnxNhwc = false }); return; }
        throw Fail($"perm [{string.Join(", ", perm)}] not supported (only NCHW ⇄ NHWC layout changes of images)");
    }

    private void Pad()
    {
        Known("mode", "pads", "value");
        var x = Image(0, "Pad");
        if (Str(_node, "mode", "constant") != "constant") throw Fail($"mode '{Str(_node, "mode", "constant")}' not supported (only constant zeros)");
        long[] p;
        float value;
        if (_file.Opset < 11)
        {
            p = Ints(_node, "pads", []);
            value = Float(_node, "value", 0f);
        }
        else
        {
            p = Longs(Const(1, "pads"));
            value = _node.Input.Count > 2 && _node.Input[2].Length > 0 ? Floats(Const(2, "constant_value")).Single() : 0f;
            if (_node.Input.Count > 3 && _node.Input[3].Length > 0) throw Fail("the axes input not supported");
        }
        if (value != 0f) throw Fail($"padding value {value} not supported (only 0)");
        // [n0, c0, h0, w0, n1, c1, h1, w1]
        if (p.Length != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p.Any(v => v < 0 || v > 1 << 16))
            throw Fail($"pads [{string.Join(", ", p)}] not supported (only non-negative padding of height and width)");
        var z = new ZeroPadStep { Name = LayerName("zero_padding2d"), Inputs = [x.Id], Top = (int)p[2], Left = (int)p[3], Bottom = (int)p[6], Right = (int)p[7] };
        Output(AddStep(z, [x.Shape[0] + z.Top + z.Bottom, x.Shape[1] + z.Left + z.Right, x.Shape[2]], x.NonNegative));
    }
}
