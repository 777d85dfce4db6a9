using ConvNet.Onnx.Protobuf;

namespace ConvNet.Onnx;

/// <summary>Activations, flattening and shape computations, dense layers, arithmetic and merges.</summary>
internal sealed partial class OnnxGraphConverter
{
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
        if (_gapFlat.Contains(_node.Input[0]) || x.Shape.Length == 1) { Output(x); return; } // already (N, features)
        if (!x.IsImage)
        {
            Output(AddStep(new FlattenStep { Name = LayerName("flatten"), Inputs = [x.Id] }, [x.Shape.Aggregate(1, (a, b) => a * b)], x.NonNegative));
            return;
        }
        int h = x.Shape[0], w = x.Shape[1], c = x.Shape[2];
        // ConvNet flattens NHWC; ONNX flattens what it holds. Equal orders when the tensor is NHWC in ONNX or C or H·W is 1.
        bool natural = x.OnnxNhwc || c == 1 || h * w == 1;
        var step = new FlattenStep { Name = LayerName("flatten"), Inputs = [x.Id] };
        Output(AddStep(step, [h * w * c], x.NonNegative) with { FlatFromNchw = natural ? null : (c, h, w) });
    }

    /// <summary>Integer vectors computed from shapes (PyTorch's <c>x.view(x.size(0), -1)</c>); null is the batch size.</summary>
    private readonly Dictionary<string, long?[]> _shapeVectors = [];

    private long?[] Vector(int index)
    {
        var name = index < _node.Input.Count ? _node.Input[index] : "";
        if (_shapeVectors.TryGetValue(name, out var v)) return v;
        if (_consts.TryGetValue(name, out var t)) return Longs(t).Select(x => (long?)x).ToArray();
        throw Fail($"input '{name}' is not a shape computation ConvNet can follow (only Shape/Gather/Unsqueeze/Squeeze/Concat/Cast of shapes)");
    }

    /// <summary>Shape, Gather, Unsqueeze, Squeeze, Cast and Concat on shape vectors: evaluated here, batch size kept symbolic.</summary>
    private void ShapeOp()
    {
        long?[] r;
        switch (_node.OpType)
        {
            case "Shape":
                Known();
                var x = In(0);
                r = x.IsImage
                    ? (x.OnnxNhwc ? [null, x.Shape[0], x.Shape[1], x.Shape[2]] : [null, x.Shape[2], x.Shape[0], x.Shape[1]])
                    : [null, .. x.Shape.Select(d => (long?)d)];
                break;
            case "Gather":
                Known("axis");
                if (Int(_node, "axis", 0) != 0) throw Fail("Gather of a shape along an axis other than 0 not supported");
                var data = Vector(0);
                var idx = Longs(Const(1, "indices"));
                r = idx.Select(i => i >= -data.Length && i < data.Length ? data[i < 0 ? i + data.Length : i] : throw Fail($"index {i} is outside the shape")).ToArray();
                break;
            case "Unsqueeze":
            case "Squeeze":
                Known("axes");
                r = Vector(0);
                break;
            case "Cast":
                Known("to", "saturate");
                r = Vector(0);
                break;
            default: // Concat of shape vectors
                Known("axis");
                r = Enumerable.Range(0, _node.Input.Count).SelectMany(Vector).ToArray();
                break;
        }
        _shapeVectors[_node.Output[0]] = r;
    }

    private void Reshape()
    {
        Known("allowzero");
        var x = In(0);
        var shape = Vector(1).Select(d => d ?? 0).ToArray();   // the batch size (symbolic) reshapes like 0: "keep"
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
        if (bt.Dims.Count != 2 || bt.Dims.Any(d => d <= 0)) throw Fail($"B '{bt.Name}' must be 2-D with positive dimensions");
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
        if (bt.Dims.Count != 2 || bt.Dims[0] != x.Shape[0] || bt.Dims[1] <= 0) throw Fail($"B '{bt.Name}' must be ({x.Shape[0]}, units)");
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
            if (s == 0f || !float.IsFinite(s) || !float.IsFinite(o)) throw Fail($"{op} by {v[0]} not supported (a finite, non-zero scale and a finite offset)");
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
}
