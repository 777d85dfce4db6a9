using ConvNet.Onnx.Protobuf;

namespace ConvNet.Onnx;

/// <summary>Convolutions, normalisation, pooling, padding, cropping and layout changes of images.</summary>
internal sealed partial class OnnxGraphConverter
{
    private void Conv()
    {
        Known("kernel_shape", "strides", "pads", "auto_pad", "dilations", "group");
        var x = Image(0, "Conv");
        var wt = Const(1, "weight");
        if (wt.Dims.Count != 4) throw Fail($"weight '{wt.Name}' has rank {wt.Dims.Count}; 2-D convolution (F, C, KH, KW) expected");
        if (wt.Dims.Any(d => d <= 0 || d > 1 << 20)) throw Fail($"weight '{wt.Name}' has dims [{string.Join(", ", wt.Dims)}]; every dimension must be positive");
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
            var sep = new SeparableStep { Name = LayerName("separable_conv2d"), Inputs = d.Inputs, Depthwise = d, Pointwise = k, Bias = bias, F = f };
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
