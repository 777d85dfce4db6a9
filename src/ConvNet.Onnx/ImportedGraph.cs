namespace ConvNet.Onnx;

/// <summary>One step of an imported graph, in ConvNet's NHWC terms; <see cref="Inputs"/> and <see cref="Output"/> are value ids.</summary>
internal abstract class Step
{
    public required string Name { get; set; }
    public required int[] Inputs { get; init; }
    public int Output { get; set; }
}

/// <summary>Conv2D with kernel (KH, KW, C, F).</summary>
internal sealed class ConvStep : Step
{
    public required float[] Kernel { get; set; }
    public float[]? Bias { get; set; }
    public int KH, KW, C, F, SH, SW;
    public Padding Padding;
    public Activation Activation;
}

/// <summary>DepthwiseConv2D with kernel (KH, KW, C, M); output channel c·M + m.</summary>
internal sealed class DepthwiseStep : Step
{
    public required float[] Kernel { get; set; }
    public float[]? Bias { get; set; }
    public int KH, KW, C, M, SH, SW;
    public Padding Padding;
    public Activation Activation;
}

/// <summary>SeparableConv2D: a bias-free depthwise step followed by a 1×1 convolution (pointwise kernel (1, 1, C·M, F)).</summary>
internal sealed class SeparableStep : Step
{
    public required DepthwiseStep Depthwise { get; init; }
    public required float[] Pointwise { get; init; }
    public float[]? Bias { get; set; }
    public int F;
    public Activation Activation;
}

/// <summary>Dense with kernel (in, out).</summary>
internal sealed class DenseStep : Step
{
    public required float[] Kernel { get; set; }
    public float[]? Bias { get; set; }
    public int In, Out;
    public Activation Activation;
}

internal sealed class PoolStep : Step
{
    public bool Max;
    public int KH, KW, SH, SW;
    public Padding Padding;
}

internal sealed class GlobalAveragePoolStep : Step;
internal sealed class FlattenStep : Step;
internal sealed class ActivationStep : Step { public Activation Activation; }
internal sealed class RescaleStep : Step { public float Scale = 1f, Offset; }
internal sealed class GlobalMaxPoolStep : Step;
internal sealed class LeakyReluStep : Step { public float Slope; }
internal sealed class CropStep : Step { public int Top, Bottom, Left, Right; }
/// <summary>BatchNormalization over the channel/feature (last) axis, inference statistics from the file.</summary>
internal sealed class BatchNormStep : Step
{
    public required float[] Gamma, Beta, Mean, Variance;
    public float Epsilon, Momentum;
}
/// <summary>A merge of several values: Add, Subtract, Multiply, Average (same shapes) or Concatenate along <see cref="Axis"/> (Keras numbering, batch = 0).</summary>
internal sealed class MergeStep : Step
{
    public required string Kind { get; init; }
    public int Axis { get; init; } = -1;
}
/// <summary>Zero padding of an image (ZeroPadding2D).</summary>
internal sealed class ZeroPadStep : Step { public int Top, Bottom, Left, Right; }

/// <summary>
/// The result of converting an ONNX graph: steps in topological order over NHWC values, each one ConvNet layer.
/// <see cref="ToModel"/> makes a <see cref="Sequential"/> of a chain and a functional <see cref="Model"/> otherwise.
/// </summary>
internal sealed class ImportedGraph
{
    public required string Name { get; init; }
    /// <summary>The file (or description) the graph came from, for error messages.</summary>
    public required string Source { get; init; }
    public required int[] InputShape { get; init; }
    public required int[] OutputShape { get; init; }
    public required int InputId { get; init; }
    public required int OutputId { get; init; }
    public required List<Step> Steps { get; init; }

    /// <summary>Shape (per sample, NHWC) of every value id, filled by the converter.</summary>
    public required Dictionary<int, int[]> Shapes { get; init; }

    /// <summary>True when every step is one single-input layer applied to the previous step's output.</summary>
    public bool IsChain
    {
        get
        {
            int current = InputId;
            foreach (var s in Steps)
            {
                if (s.Inputs.Length != 1 || s.Inputs[0] != current || s is MergeStep) return false;
                current = s.Output;
            }
            return current == OutputId;
        }
    }

    /// <summary>The ConvNet layer of a step (not built yet; weights are set by <see cref="SetWeights"/> once it is).</summary>
    public static Layer CreateLayer(Step s) => s switch
    {
        ConvStep c => new Conv2D(c.F, (c.KH, c.KW), (c.SH, c.SW), c.Padding, c.Activation, c.Bias is not null, c.Name),
        DenseStep d => new Dense(d.Out, d.Activation, d.Bias is not null, d.Name),
        DepthwiseStep d => new DepthwiseConv2D((d.KH, d.KW), (d.SH, d.SW), d.Padding, d.M, d.Activation, d.Bias is not null, d.Name),
        SeparableStep p => new SeparableConv2D(p.F, (p.Depthwise.KH, p.Depthwise.KW), (p.Depthwise.SH, p.Depthwise.SW), p.Depthwise.Padding, p.Depthwise.M,
            p.Activation, p.Bias is not null, p.Name),
        PoolStep { Max: true } p => new MaxPooling2D((p.KH, p.KW), (p.SH, p.SW), p.Padding, p.Name),
        PoolStep p => new AveragePooling2D((p.KH, p.KW), (p.SH, p.SW), p.Padding, p.Name),
        GlobalAveragePoolStep => new GlobalAveragePooling2D(s.Name),
        GlobalMaxPoolStep => new GlobalMaxPooling2D(s.Name),
        FlattenStep => new Flatten(s.Name),
        ActivationStep { Activation: Activation.Relu } => new ReLU(s.Name),
        ActivationStep { Activation: Activation.Tanh } => new Tanh(s.Name),
        ActivationStep { Activation: Activation.Softmax } => new Softmax(s.Name),
        ActivationStep a => new ActivationLayer(a.Activation, s.Name),
        LeakyReluStep l => new LeakyReLU(l.Slope, s.Name),
        RescaleStep r => new Rescaling(r.Scale, r.Offset, r.Name),
        ZeroPadStep z => new ZeroPadding2D(((z.Top, z.Bottom), (z.Left, z.Right)), s.Name),
        CropStep c => new Cropping2D(((c.Top, c.Bottom), (c.Left, c.Right)), s.Name),
        // γ ≡ 1 and β ≡ 0 (e.g. Keras' scale=False / center=False) need no parameters.
        BatchNormStep b => new BatchNormalization(-1, b.Momentum, b.Epsilon, center: b.Beta.Any(v => v != 0f), scale: b.Gamma.Any(v => v != 1f), name: s.Name),
        MergeStep { Kind: "Add" } => new Add(s.Name),
        MergeStep { Kind: "Subtract" } => new Subtract(s.Name),
        MergeStep { Kind: "Multiply" } => new Multiply(s.Name),
        MergeStep { Kind: "Average" } => new Average(s.Name),
        MergeStep m => new Concatenate(m.Axis, s.Name),
        _ => throw new InvalidOperationException($"internal: no layer for step {s.GetType().Name}"),
    };

    /// <summary>Copies a step's weights into its built layer.</summary>
    public static void SetWeights(Step s, Layer layer)
    {
        switch (s)
        {
            case ConvStep c:
                c.Kernel.CopyTo(((Conv2D)layer).Kernel!.Value.Span);
                c.Bias?.CopyTo(((Conv2D)layer).Bias!.Value.Span);
                break;
            case DenseStep d:
                d.Kernel.CopyTo(((Dense)layer).Kernel!.Value.Span);
                d.Bias?.CopyTo(((Dense)layer).Bias!.Value.Span);
                break;
            case DepthwiseStep d:
                d.Kernel.CopyTo(((DepthwiseConv2D)layer).DepthwiseKernel!.Value.Span);
                d.Bias?.CopyTo(((DepthwiseConv2D)layer).Bias!.Value.Span);
                break;
            case SeparableStep p:
                var sep = (SeparableConv2D)layer;
                p.Depthwise.Kernel.CopyTo(sep.DepthwiseKernel!.Value.Span);
                p.Pointwise.CopyTo(sep.PointwiseKernel!.Value.Span);
                p.Bias?.CopyTo(sep.Bias!.Value.Span);
                break;
            case BatchNormStep b:
                var bn = (BatchNormalization)layer;
                if (bn.Gamma is { } gamma) b.Gamma.CopyTo(gamma.Value.Span);
                if (bn.Beta is { } beta) b.Beta.CopyTo(beta.Value.Span);
                b.Mean.CopyTo(bn.MovingMean!.Value.Span);
                b.Variance.CopyTo(bn.MovingVariance!.Value.Span);
                break;
        }
    }

    /// <summary>The graph as a ConvNet model: a <see cref="Sequential"/> for a chain, a functional <see cref="Model"/> otherwise.</summary>
    public Model ToModel()
    {
        var layers = new Layer[Steps.Count];
        for (int i = 0; i < Steps.Count; i++) layers[i] = Guard(Steps[i], () => CreateLayer(Steps[i]));
        Model model;
        if (IsChain) model = Guard(null, () => new Sequential([new Input(InputShape), .. layers]) { Name = Name });
        else
        {
            var input = new Input(InputShape);
            var values = new Dictionary<int, SymbolicTensor> { [InputId] = input };
            for (int i = 0; i < Steps.Count; i++)
            {
                var s = Steps[i];
                var layer = layers[i];
                values[s.Output] = Guard(s, () => s.Inputs.Length == 1 ? layer.Apply(values[s.Inputs[0]]) : layer.Apply(s.Inputs.Select(v => values[v]).ToArray()));
            }
            model = Guard(null, () => new Model(input, values[OutputId], Name));
        }
        // After the model is built (a model may re-seed the layers it adopts).
        for (int i = 0; i < Steps.Count; i++) SetWeights(Steps[i], layers[i]);
        return model;
    }

    /// <summary>A layer that refuses the converted values (e.g. a constructor's argument check) becomes an error naming the node.</summary>
    private T Guard<T>(Step? step, Func<T> build)
    {
        try { return build(); }
        catch (Exception e) when (e is ArgumentException or LayerShapeException or InvalidOperationException)
        {
            throw new NotSupportedException($"ONNX file '{Source}': {(step is null ? "the model" : $"node '{step.Name}'")} cannot be built as a ConvNet model: {e.Message}", e);
        }
    }
}
