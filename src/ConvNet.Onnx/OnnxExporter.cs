using ConvNet.Onnx.Protobuf;
using Google.Protobuf;
using static ConvNet.Onnx.OnnxGraphBuilder;

namespace ConvNet.Onnx;

/// <summary>
/// Writes ConvNet models (<see cref="Sequential"/>, functional <see cref="Model"/>s, nested models) as ONNX files that ONNX Runtime (or any ONNX backend) runs with the same results.
/// <list type="bullet">
/// <item>Image tensors are NCHW inside the graph. With <see cref="OnnxLayout.Nhwc"/> (the default) the graph takes and
/// returns NHWC like ConvNet and transposes at its edges; with <see cref="OnnxLayout.Nchw"/> it takes and returns NCHW.</item>
/// <item><see cref="Flatten"/> keeps ConvNet's NHWC order (a Transpose to NHWC precedes the ONNX Flatten), so the
/// following <see cref="Dense"/> kernel is written unchanged as a Gemm.</item>
/// <item>Keras/TF <see cref="Padding.Same"/> is written as explicit <c>pads</c> with the odd pixel at the end (bottom/right), as TF does.</item>
/// <item>Conv2D kernels (KH, KW, C, F) are written as (F, C, KH, KW); Dense kernels (in, out) as Gemm's B.</item>
/// </list>
/// The batch dimension is symbolic (<c>N</c>). Weights are float32 in little-endian <c>raw_data</c>.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Lowest opset written (Softmax has single-axis semantics from opset 13 on).</summary>
    public const int MinOpset = 13;
    /// <summary>Highest opset written (the onnx.proto this package is generated from is ONNX 1.12, opset 17).</summary>
    public const int MaxOpset = 17;

    /// <summary>Writes <paramref name="model"/> (built, e.g. from an <see cref="Input"/> layer) to <paramref name="path"/> as an ONNX model.</summary>
    /// <param name="model">The model; it must be built so that every shape and weight is known.</param>
    /// <param name="path">The .onnx file to write (replaced atomically).</param>
    /// <param name="opset">ONNX default-domain opset, <see cref="MinOpset"/> to <see cref="MaxOpset"/>.</param>
    /// <param name="layout">Layout of the graph's image input and outputs; see <see cref="OnnxLayout"/>.</param>
    /// <exception cref="NotSupportedException">A layer or option has no ONNX form; the message names the layer.</exception>
    public static void Save(Model model, string path, int opset = 17, OnnxLayout layout = OnnxLayout.Nhwc)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(model, opset, layout);
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The ONNX model as protobuf bytes (what <see cref="Save"/> writes).</summary>
    /// <inheritdoc cref="Save" path="/param"/>
    public static byte[] ToBytes(Model model, int opset = 17, OnnxLayout layout = OnnxLayout.Nhwc) => Export(model, opset, layout).ToByteArray();

    /// <summary>metadata_props key holding the input layout (NHWC or NCHW) of a model written by ConvNet.</summary>
    internal const string InputLayoutKey = "convnet.input_layout";

    internal static ModelProto Export(Model model, int opset, OnnxLayout layout)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (opset is < MinOpset or > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), $"ONNX export: opset {opset} is not supported; use {MinOpset} to {MaxOpset}.");
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), $"ONNX export: unknown layout {layout}.");
        if (!model.IsBuilt)
            throw new InvalidOperationException($"ONNX export: model '{model.Name}' is not built; start it with an Input layer or call Build(height, width, channels) first.");

        var b = new OnnxGraphBuilder(model.Name);
        var emitter = new LayerEmitter(b, layout);
        var x = emitter.GraphInput("input", model.InputShape!);
        emitter.GraphOutput(emitter.EmitModel(model, x, ""), "output");

        var m = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "ConvNet.Onnx",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = b.Graph,
        };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        // Tells ConvNet's importer the input layout even where no Transpose shows it (e.g. Input → Flatten → Dense).
        m.MetadataProps.Add(new StringStringEntryProto { Key = InputLayoutKey, Value = layout == OnnxLayout.Nhwc ? "NHWC" : "NCHW" });
        return m;
    }
}

/// <summary>A value of the graph being written: its ONNX name, ConvNet per-sample shape (NHWC) and whether the ONNX tensor is NCHW.</summary>
internal readonly record struct OnnxValue(string Name, int[] Shape, bool Nchw)
{
    /// <summary>True for per-sample (H, W, C) values: those have a layout.</summary>
    public bool IsImage => Shape.Length == 3;
}

/// <summary>Emits the ONNX nodes of one ConvNet layer at a time.</summary>
internal sealed class LayerEmitter(OnnxGraphBuilder b, OnnxLayout layout)
{
    public OnnxValue GraphInput(string name, IReadOnlyList<int> shape)
    {
        var s = shape.ToArray();
        bool nchw = s.Length == 3 && layout == OnnxLayout.Nchw;
        b.Graph.Input.Add(FloatValue(b.Reserve(name), OnnxDims(s, nchw)));
        return new OnnxValue(name, s, nchw);
    }

    public void GraphOutput(OnnxValue x, string name)
    {
        x = layout == OnnxLayout.Nchw ? ToNchw(x) : ToNhwc(x);
        // The output gets a stable name through an Identity (the value may also be a graph input).
        var y = b.Node("Identity", name, [x.Name]);
        b.Graph.Output.Add(FloatValue(y, OnnxDims(x.Shape, x.Nchw)));
    }

    private static long?[] OnnxDims(int[] s, bool nchw) =>
        nchw ? [null, s[2], s[0], s[1]] : [null, .. s.Select(d => (long?)d)];

    public OnnxValue ToNchw(OnnxValue x) => !x.IsImage || x.Nchw ? x
        : x with { Name = b.Node("Transpose", x.Name + "_nchw", [x.Name], Ints("perm", 0, 3, 1, 2)), Nchw = true };

    public OnnxValue ToNhwc(OnnxValue x) => !x.IsImage || !x.Nchw ? x
        : x with { Name = b.Node("Transpose", x.Name + "_nhwc", [x.Name], Ints("perm", 0, 2, 3, 1)), Nchw = false };

    /// <summary>Emits a model's graph applied to <paramref name="input"/> (nested models are inlined, their node names prefixed with the model's name).</summary>
    public OnnxValue EmitModel(Model model, OnnxValue input, string prefix)
    {
        var inputTensor = model.InputTensor ?? throw new InvalidOperationException($"ONNX export: model '{model.Name}' is not built.");
        var values = new Dictionary<SymbolicTensor, OnnxValue>(ReferenceEqualityComparer.Instance) { [inputTensor] = input };
        foreach (var t in model.Tensors)
        {
            if (values.ContainsKey(t)) continue;
            var layer = t.Layer;
            var inputs = t.InboundTensors.Select(i => values[i]).ToArray();
            string n = prefix + (layer.Name.Length > 0 ? layer.Name : layer.TypeName.ToLowerInvariant());
            values[t] = layer switch
            {
                Input => throw new InvalidOperationException($"ONNX export: model '{model.Name}' reads a second input '{layer.Name}'."),
                Model nested => EmitModel(nested, inputs[0], n + "/"),
                Merge merge => EmitMerge(merge, inputs, n),
                _ => Emit(layer, inputs[0], n),
            };
        }
        return values[model.OutputTensor!];
    }

    private OnnxValue EmitMerge(Merge merge, OnnxValue[] inputs, string n)
    {
        var outShape = merge.OutputShape!.ToArray();
        // Inputs of one merge share a layout: NCHW as soon as one of them is.
        bool nchw = inputs.Any(i => i.IsImage && i.Nchw);
        var xs = inputs.Select(i => nchw ? ToNchw(i) : i).ToArray();
        var names = xs.Select(i => i.Name).ToArray();
        string y;
        switch (merge)
        {
            case Add: y = b.Node(names.Length == 2 ? "Add" : "Sum", n, names); break;
            case Subtract: y = b.Node("Sub", n, names); break;
            case Average: y = b.Node("Mean", n, names); break;
            case Multiply:
                y = names[0];
                for (int i = 1; i < names.Length; i++) y = b.Node("Mul", n, [y, names[i]]);
                break;
            case Concatenate c:
            {
                int rank = outShape.Length;
                int axis = (c.Axis < 0 ? c.Axis + rank + 1 : c.Axis) - 1;   // in the per-sample (NHWC) shape
                long onnxAxis = xs[0].IsImage && nchw ? axis switch { 0 => 2, 1 => 3, _ => 1 } : axis + 1;
                y = b.Node("Concat", n, names, Int("axis", onnxAxis));
                break;
            }
            default: throw new NotSupportedException($"ONNX export: layer '{merge.Name}' ({merge.TypeName}) cannot be written: this merge layer has no ONNX export yet.");
        }
        return new OnnxValue(y, outShape, nchw && outShape.Length == 3);
    }

    public OnnxValue Emit(Layer layer, OnnxValue x, string n)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var outShape = layer.OutputShape?.ToArray()
            ?? throw new InvalidOperationException($"ONNX export: layer '{layer.Name}' ({layer.TypeName}) is not built.");
        switch (layer)
        {
            case Input:
                return x;
            case Rescaling r:
            {
                var y = x.Name;
                if (r.Scale != 1f) y = b.Node("Mul", n, [y, b.Initializer(n + "/scale", [r.Scale])]);
                if (r.Offset != 0f) y = b.Node("Add", n, [y, b.Initializer(n + "/offset", [r.Offset])]);
                if (y == x.Name) y = b.Node("Identity", n, [y]);
                return x with { Name = y };
            }
            case Conv2D c:
            {
                x = ToNchw(x);
                int kh = c.KernelSize.Height, kw = c.KernelSize.Width, ch = x.Shape[2], f = c.Filters;
                var w = b.Initializer(n + "/kernel", KernelToOihw(c.Kernel!.Value.Span, kh, kw, ch, f), f, ch, kh, kw);
                string[] inputs = c.UseBias ? [x.Name, w, b.Initializer(n + "/bias", c.Bias!.Value.Span, f)] : [x.Name, w];
                var (pt, pb) = Pads(x.Shape[0], kh, c.Strides.Height, c.Padding);
                var (pl, pr) = Pads(x.Shape[1], kw, c.Strides.Width, c.Padding);
                var y = b.Node("Conv", n, inputs,
                    Ints("kernel_shape", kh, kw), Ints("strides", c.Strides.Height, c.Strides.Width),
                    Ints("pads", pt, pl, pb, pr), Ints("dilations", 1, 1), Int("group", 1));
                return Activate(c.Activation, new OnnxValue(y, outShape, true), n, layer);
            }
            case DepthwiseConv2D dc:
            {
                x = ToNchw(x);
                var y = Depthwise(x, n, dc.KernelSize, dc.Strides, dc.Padding, dc.DepthMultiplier, dc.DepthwiseKernel!.Value.Span, dc.UseBias ? dc.Bias!.Value.Span : null);
                return Activate(dc.Activation, new OnnxValue(y, outShape, true), n, layer);
            }
            case SeparableConv2D sc:
            {
                x = ToNchw(x);
                var d = Depthwise(x, n + "/depthwise", sc.KernelSize, sc.Strides, sc.Padding, sc.DepthMultiplier, sc.DepthwiseKernel!.Value.Span, null);
                int cm = x.Shape[2] * sc.DepthMultiplier, f = sc.Filters;
                var w = b.Initializer(n + "/pointwise_kernel", KernelToOihw(sc.PointwiseKernel!.Value.Span, 1, 1, cm, f), f, cm, 1, 1);
                string[] inputs = sc.UseBias ? [d, w, b.Initializer(n + "/bias", sc.Bias!.Value.Span, f)] : [d, w];
                var y = b.Node("Conv", n, inputs, Ints("kernel_shape", 1, 1), Ints("strides", 1, 1), Ints("pads", 0, 0, 0, 0), Ints("dilations", 1, 1), Int("group", 1));
                return Activate(sc.Activation, new OnnxValue(y, outShape, true), n, layer);
            }
            case MaxPooling2D or AveragePooling2D:
            {
                var p = (Pooling2D)layer;
                x = ToNchw(x);
                var (pt, pb) = Pads(x.Shape[0], p.PoolSize.Height, p.Strides.Height, p.Padding);
                var (pl, pr) = Pads(x.Shape[1], p.PoolSize.Width, p.Strides.Width, p.Padding);
                // TF's Same pooling ignores the padded positions: MaxPool's pads are -inf, AveragePool's count_include_pad = 0.
                var attrs = new List<AttributeProto>
                {
                    Ints("kernel_shape", p.PoolSize.Height, p.PoolSize.Width), Ints("strides", p.Strides.Height, p.Strides.Width),
                    Ints("pads", pt, pl, pb, pr),
                };
                if (layer is AveragePooling2D) attrs.Add(Int("count_include_pad", 0));
                var y = b.Node(layer is MaxPooling2D ? "MaxPool" : "AveragePool", n, [x.Name], [.. attrs]);
                return new OnnxValue(y, outShape, true);
            }
            case GlobalAveragePooling2D:
            {
                x = ToNchw(x);
                var y = b.Node("GlobalAveragePool", n, [x.Name]);
                y = b.Node("Flatten", n + "_flat", [y], Int("axis", 1));
                return new OnnxValue(y, outShape, false);
            }
            case Flatten:
            {
                // ConvNet flattens in NHWC order; Dense weights were trained against that order.
                x = ToNhwc(x);
                var y = b.Node("Flatten", n, [x.Name], Int("axis", 1));
                return new OnnxValue(y, outShape, false);
            }
            case Dense d:
            {
                if (x.Shape.Length != 1) throw Unsupported(layer, $"input of rank {x.Shape.Length + 1} (only (N, features) is written as Gemm)");
                var w = b.Initializer(n + "/kernel", d.Kernel!.Value.Span, x.Shape[0], d.Units);
                string[] inputs = d.UseBias ? [x.Name, w, b.Initializer(n + "/bias", d.Bias!.Value.Span, d.Units)] : [x.Name, w];
                var y = b.Node("Gemm", n, inputs);
                return Activate(d.Activation, new OnnxValue(y, outShape, false), n, layer);
            }
            case ActivationLayer a: return Activate(a.Activation, x, n, layer, standalone: true);
            case LeakyReLU lr: return x with { Name = b.Node("LeakyRelu", n, [x.Name], Float("alpha", lr.NegativeSlope)) };
            case RandomCrop rc:
            {
                // Inference: the centre crop, top = (H − h)/2 and left = (W − w)/2 rounded down.
                x = ToNchw(x);
                int t = (x.Shape[0] - rc.Height) / 2, l = (x.Shape[1] - rc.Width) / 2;
                var y = b.Node("Slice", n, [x.Name, b.Int64Initializer(n + "/starts", t, l), b.Int64Initializer(n + "/ends", t + rc.Height, l + rc.Width),
                    b.Int64Initializer(n + "/axes", 2, 3)]);
                return new OnnxValue(y, outShape, true);
            }
            case RandomPreprocessingLayer:
                // Augmentation is random in training and the identity at inference.
                return x with { Name = b.Node("Identity", n, [x.Name]) };
            case DropoutBase:
                // Inference graph: dropout is the identity.
                return x with { Name = b.Node("Identity", n, [x.Name]) };
            case BatchNormalization bn:
            {
                int rank = x.Shape.Length + 1;
                if (bn.Axis != -1 && bn.Axis != rank - 1) throw Unsupported(layer, $"axis {bn.Axis} (only the channel/feature axis, -1)");
                x = ToNchw(x);
                int ch = x.Shape[^1];
                var gamma = bn.Gamma?.Value.ToArray() ?? Enumerable.Repeat(1f, ch).ToArray();
                var beta = bn.Beta?.Value.ToArray() ?? new float[ch];
                var y = b.Node("BatchNormalization", n, [x.Name, b.Initializer(n + "/gamma", gamma, ch), b.Initializer(n + "/beta", beta, ch),
                    b.Initializer(n + "/moving_mean", bn.MovingMean!.Value.Span, ch), b.Initializer(n + "/moving_variance", bn.MovingVariance!.Value.Span, ch)],
                    Float("epsilon", bn.Epsilon), Float("momentum", bn.Momentum));
                return x with { Name = y };
            }
            case ZeroPadding2D z:
            {
                x = ToNchw(x);
                var ((t, bo), (l, r)) = z.Padding;
                var pads = b.Int64Initializer(n + "/pads", 0, 0, t, l, 0, 0, bo, r);
                return new OnnxValue(b.Node("Pad", n, [x.Name, pads]), outShape, true);
            }
            case Cropping2D cr:
            {
                x = ToNchw(x);
                var ((t, bo), (l, r)) = cr.Cropping;
                var y = b.Node("Slice", n, [x.Name, b.Int64Initializer(n + "/starts", t, l), b.Int64Initializer(n + "/ends", x.Shape[0] - bo, x.Shape[1] - r),
                    b.Int64Initializer(n + "/axes", 2, 3)]);
                return new OnnxValue(y, outShape, true);
            }
            case GlobalMaxPooling2D:
            {
                x = ToNchw(x);
                var y = b.Node("GlobalMaxPool", n, [x.Name]);
                y = b.Node("Flatten", n + "_flat", [y], Int("axis", 1));
                return new OnnxValue(y, outShape, false);
            }
            default:
                throw Unsupported(layer, "this layer type has no ONNX export yet");
        }
    }

    private OnnxValue Activate(Activation a, OnnxValue x, string n, Layer layer, bool standalone = false)
    {
        string stem = standalone ? n : n + "/" + a.ToString().ToLowerInvariant();
        string y = a switch
        {
            Activation.None => x.Name,
            Activation.Relu => b.Node("Relu", stem, [x.Name]),
            Activation.Tanh => b.Node("Tanh", stem, [x.Name]),
            Activation.Sigmoid => b.Node("Sigmoid", stem, [x.Name]),
            Activation.Exponential => b.Node("Exp", stem, [x.Name]),
            Activation.LeakyRelu => b.Node("LeakyRelu", stem, [x.Name], Float("alpha", LeakyReluSlope)),
            Activation.Elu => b.Node("Elu", stem, [x.Name], Float("alpha", 1f)),
            Activation.Selu => b.Node("Selu", stem, [x.Name], Float("alpha", 1.6732632423543772f), Float("gamma", 1.0507009873554805f)),
            // x·σ(x)
            Activation.Silu => b.Node("Mul", stem, [x.Name, b.Node("Sigmoid", stem + "/sigmoid", [x.Name])]),
            // x·Φ(x) = 0.5·x·(1 + erf(x/√2)), and the tanh approximation 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))
            Activation.Gelu => Gelu(x.Name, stem, approximate: false),
            Activation.GeluApproximate => Gelu(x.Name, stem, approximate: true),
            // ConvNet's softmax is over the last (channel) axis, which is axis 1 of an NCHW tensor.
            Activation.Softmax => b.Node("Softmax", stem, [x.Name], Int("axis", x.IsImage && x.Nchw ? 1 : -1)),
            _ => throw Unsupported(layer, $"activation {a}"),
        };
        return x with { Name = y };
    }

    /// <summary>A depthwise Conv (group = C): Keras kernel (KH, KW, C, M) → (C·M, 1, KH, KW); output channel c·M + m as in TF.</summary>
    private string Depthwise(OnnxValue x, string n, (int Height, int Width) k, (int Height, int Width) s, Padding padding, int m, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias)
    {
        int kh = k.Height, kw = k.Width, c = x.Shape[2];
        var w = b.Initializer(n + "/depthwise_kernel", KernelToOihw(kernel, kh, kw, 1, c * m), c * m, 1, kh, kw);
        string[] inputs = bias.IsEmpty ? [x.Name, w] : [x.Name, w, b.Initializer(n + "/bias", bias, c * m)];
        var (pt, pb) = Pads(x.Shape[0], kh, s.Height, padding);
        var (pl, pr) = Pads(x.Shape[1], kw, s.Width, padding);
        return b.Node("Conv", n, inputs, Ints("kernel_shape", kh, kw), Ints("strides", s.Height, s.Width),
            Ints("pads", pt, pl, pb, pr), Ints("dilations", 1, 1), Int("group", c));
    }

    /// <summary>Slope of ConvNet's <see cref="Activation.LeakyRelu"/> activation (Keras' "leaky_relu" string).</summary>
    private const float LeakyReluSlope = 0.2f;

    private string Gelu(string x, string stem, bool approximate)
    {
        string inner;
        if (approximate)
        {
            var x3 = b.Node("Mul", stem + "/x3", [x, b.Node("Mul", stem + "/x2", [x, x])]);
            var poly = b.Node("Add", stem + "/poly", [x, b.Node("Mul", stem + "/cx3", [x3, b.Initializer(stem + "/c", [0.044715f])])]);
            inner = b.Node("Tanh", stem + "/tanh", [b.Node("Mul", stem + "/scaled", [poly, b.Initializer(stem + "/k", [MathF.Sqrt(2f / MathF.PI)])])]);
        }
        else inner = b.Node("Erf", stem + "/erf", [b.Node("Div", stem + "/scaled", [x, b.Initializer(stem + "/sqrt2", [MathF.Sqrt(2f)])])]);
        var onePlus = b.Node("Add", stem + "/one_plus", [inner, b.Initializer(stem + "/one", [1f])]);
        var half = b.Node("Mul", stem + "/half_x", [x, b.Initializer(stem + "/half", [0.5f])]);
        return b.Node("Mul", stem, [half, onePlus]);
    }

    /// <summary>ONNX begin/end pads of one axis: none for Valid; for Same TF's split with the odd pixel at the end.</summary>
    internal static (long Begin, long End) Pads(int input, int kernel, int stride, Padding padding)
    {
        if (padding == Padding.Valid) return (0, 0);
        int o = (input + stride - 1) / stride;
        int total = Math.Max((o - 1) * stride + kernel - input, 0);
        return (total / 2, total - total / 2);
    }

    /// <summary>(KH, KW, C, F) → (F, C, KH, KW).</summary>
    internal static float[] KernelToOihw(ReadOnlySpan<float> k, int kh, int kw, int c, int f)
    {
        var o = new float[k.Length];
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
                for (int i = 0; i < c; i++)
                    for (int j = 0; j < f; j++)
                        o[((j * c + i) * kh + y) * kw + x] = k[((y * kw + x) * c + i) * f + j];
        return o;
    }

    private static NotSupportedException Unsupported(Layer layer, string why) =>
        new($"ONNX export: layer '{layer.Name}' ({layer.TypeName}) cannot be written: {why}.");
}
