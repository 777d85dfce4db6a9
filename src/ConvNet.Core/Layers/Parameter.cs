namespace ConvNet;

/// <summary>A trainable tensor with its gradient buffer (same shape). Backward passes add into <see cref="Grad"/>.</summary>
public sealed class Parameter
{
    internal Parameter(string name, Tensor value, bool trainable = true)
    {
        Name = name;
        Trainable = trainable;
        Value = value;
        Grad = new Tensor(value.Shape);
    }

    /// <summary>Short name within the layer: "kernel" or "bias" (Keras names).</summary>
    public string Name { get; }
    /// <summary>False for state that is saved but not trained, e.g. BatchNormalization's moving mean and variance
    /// (Keras' non-trainable weights): optimisers skip it and summaries count it as non-trainable.</summary>
    public bool Trainable { get; }
    /// <summary>The values.</summary>
    public Tensor Value { get; }
    /// <summary>The accumulated gradient of the loss with respect to <see cref="Value"/>.</summary>
    public Tensor Grad { get; }
}
