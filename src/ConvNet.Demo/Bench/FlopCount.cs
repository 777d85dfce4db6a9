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
    /// FLOPs of one training step at batch <paramref name="batch"/>: for every conv/dense layer, forward + backward-filter
    /// + backward-data, each the same multiply-add count, i.e. 3 × forward — except the layers with no trainable layer
    /// before them, whose input gradient nobody needs (the first conv skips backward-data: 2 × forward).
    /// train = Σ_layers forward(l) · (2 + [some earlier layer has trainable weights]).
    /// </summary>
    public static double TrainStep(Model model, int batch)
    {
        double total = 0;
        bool trainableBefore = false;
        foreach (var l in model.Layers)
        {
            total += Forward(l, batch) * (trainableBefore ? 3 : 2);
            if (l.Trainable && l.TrainableParamCount > 0) trainableBefore = true;
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
