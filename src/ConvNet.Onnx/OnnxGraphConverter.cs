using ConvNet.Onnx.Protobuf;

namespace ConvNet.Onnx;

/// <summary>
/// Converts a validated ONNX graph (NCHW) into an <see cref="ImportedGraph"/> (NHWC). Every node that cannot be converted
/// is collected, and one <see cref="NotSupportedException"/> lists them all with op type, node name and reason.
/// </summary>
internal sealed partial class OnnxGraphConverter
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
        "Shape", "Gather", "Unsqueeze", "Squeeze", "Cast",
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
        if (!_vals.TryGetValue(outName, out var output))
            throw new NotSupportedException($"ONNX file '{_file.Source}': the graph output '{outName}' is {(_consts.ContainsKey(outName) ? "a constant" : _shapeVectors.ContainsKey(outName) ? "a shape computation" : "not computed from the input")}; ConvNet needs a tensor computed from the input.");
        return new ImportedGraph
        {
            Name = _file.Graph.Name.Length > 0 ? _file.Graph.Name : "onnx", Source = _file.Source,
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
        if (dims.Count is < 2 or > 4)
            throw new NotSupportedException($"ONNX file '{_file.Source}': graph input '{i.Name}' has rank {dims.Count}; (N, C, H, W) images, (N, features) or (N, a, b) are supported.");
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
        // ConvNet's export names nodes "layer/OpType" (nested models "model/layer/OpType"): the layer name comes back.
        var raw = _node.Name.Length > 0 ? _node.Name : stem;
        if (raw.EndsWith("/" + _node.OpType, StringComparison.Ordinal) && raw.Length > _node.OpType.Length + 1) raw = raw[..^(_node.OpType.Length + 1)];
        var s = new string(raw.Select(ch => char.IsLetterOrDigit(ch) || ch is '_' or '-' or '.' ? ch : '_').ToArray());
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
            case "Concat":
                if (_node.Input.All(i => _shapeVectors.ContainsKey(i) || _consts.ContainsKey(i))) ShapeOp();
                else Concat();
                break;
            case "Pad": Pad(); break;
            case "Shape":
            case "Gather":
            case "Unsqueeze":
            case "Squeeze":
            case "Cast": ShapeOp(); break;
        }
    }
}
