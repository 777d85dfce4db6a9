namespace ConvNet;

/// <summary>Weight initialisers (Keras defaults).</summary>
public static class Initializers
{
    /// <summary>Glorot (Xavier) uniform: U(−l, l) with l = √(6 / (fanIn + fanOut)).</summary>
    public static void GlorotUniform(Span<float> w, int fanIn, int fanOut, Rng rng)
    {
        float limit = (float)Math.Sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < w.Length; i++) w[i] = rng.Uniform(-limit, limit);
    }
}
