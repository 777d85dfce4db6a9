namespace ConvNet;

public static partial class Applications
{
    /// <summary>
    /// The lecture's Mandarin character model built with the functional API: Input(80, 80, 1) → Rescaling(1/255) →
    /// 3 × [Conv2D(16·2ᵏ, 3, Same, ReLU) → MaxPooling2D] → Flatten → Dense(128, ReLU) → Dense(57) logits.
    /// 849,977 parameters; the same layer order (and so the same seeds and results) as the Sequential version.
    /// </summary>
    public static Model MandarinCnn(int height = 80, int width = 80, int channels = 1, int classes = 57)
    {
        var inputs = new Input(height, width, channels);
        var x = new Rescaling(1f / 255).Apply(inputs);
        foreach (int filters in new[] { 16, 32, 64 })
        {
            x = new Conv2D(filters, 3, padding: Padding.Same, activation: Activation.Relu).Apply(x);
            x = new MaxPooling2D().Apply(x);
        }
        x = new Flatten().Apply(x);
        x = new Dense(128, Activation.Relu).Apply(x);
        return new Model(inputs, new Dense(classes).Apply(x), name: "mandarin_functional");
    }
}
