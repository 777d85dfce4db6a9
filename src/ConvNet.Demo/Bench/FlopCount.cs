namespace ConvNet.Demo.Bench;

/// <summary>
/// FLOPs of a model's convolutions and dense layers (multiply-adds × 2). Bias, activations, pooling, normalisation and the
/// optimiser are not counted: they are a few % of the work and do not run on the FMA units.
/// </summary>
public static class FlopCount
{
    /// <summary>Multiply-adds × 2 of a layer's forward pass at batch <paramref name="batch"/>; 0 for layers without a matrix product.</summary>
    public static double Forward(Layer l, int batch) => l switch
    {
        // (N, OH, OW, F) outputs, each a KH·KW·C dot product.
        Conv2D c => 2.0 * batch * c.OutputShape![0] * c.OutputShape[1] * c.Filters * c.KernelSize.Height * c.KernelSize.Width * c.InputShape![2],
        // (N, OH, OW, C·M) outputs, each a KH·KW dot product.
        DepthwiseConv2D d => 2.0 * batch * d.OutputShape![0] * d.OutputShape[1] * d.InputShape![2] * d.DepthMultiplier * d.KernelSize.Height * d.KernelSize.Width,
        // depthwise (KH·KW per C·M channel) then pointwise (C·M per filter), both at the output resolution.
        SeparableConv2D s => 2.0 * batch * s.OutputShape![0] * s.OutputShape[1] * s.InputShape![2] * s.DepthMultiplier
                                 * (s.KernelSize.Height * s.KernelSize.Width + s.Filters),
        // every input value meets every unit (the last axis is the feature axis; other axes are extra rows).
        Dense d => 2.0 * batch * Product(d.InputShape!) * d.Units,
        Model m => m.Layers.Sum(x => Forward(x, batch)),
        _ => 0,
    };

    /// <summary>Forward FLOPs of the whole model at batch <paramref name="batch"/>.</summary>
    public static double ModelForward(Model model, int batch) => model.Layers.Sum(l => Forward(l, batch));

    /// <summary>
    /// FLOPs of one training step at batch <paramref name="batch"/>. Forward, backward-filter and backward-data each cost
    /// the forward's multiply-adds, so a step is 3 × forward, except that a frozen layer computes no filter gradient and a
    /// layer with no trainable layer before it computes no input gradient (the first conv: 2 × forward):
    /// train = Σ_layers forward(l) · (1 + [l trainable] + [some earlier layer trainable]).
    /// </summary>
    public static double TrainStep(Model model, int batch)
    {
        double total = 0;
        bool trainableBefore = false;
        foreach (var l in model.Layers)
        {
            bool trainable = l.Trainable && l.TrainableParamCount > 0;
            total += Forward(l, batch) * (1 + (trainable ? 1 : 0) + (trainableBefore ? 1 : 0));
            trainableBefore |= trainable;
        }
        return total;
    }

    private static double Product(IReadOnlyList<int> shape)
    {
        double p = 1;
        foreach (int d in shape) p *= d;
        return p;
    }
}
