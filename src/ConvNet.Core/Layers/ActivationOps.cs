using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Applies an <see cref="Activation"/> in place and back-propagates through it (shared by Conv2D, Dense and the activation layers).</summary>
internal static class ActivationOps
{
    /// <summary>y = act(y) in place; rows × cols is the softmax layout (last axis).</summary>
    public static void Forward(Activation a, Span<float> y, int cols)
    {
        switch (a)
        {
            case Activation.Relu: Activations.ReluForward(y, y); break;
            case Activation.Tanh: Activations.TanhForward(y, y); break;
            case Activation.Softmax: Activations.SoftmaxForward(y.Length / cols, cols, y, y); break;
        }
    }

    /// <summary>dz = act'(·) ⊙ dy, given the activation output y (dz is overwritten).</summary>
    public static void Backward(Activation a, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int cols)
    {
        if (a == Activation.None) { dy.CopyTo(dz); return; }
        dz.Clear();
        switch (a)
        {
            case Activation.Relu: Activations.ReluBackward(y, dy, dz); break;
            case Activation.Tanh: Activations.TanhBackward(y, dy, dz); break;
            case Activation.Softmax: Activations.SoftmaxBackward(y.Length / cols, cols, y, dy, dz); break;
        }
    }

    /// <summary>Keras' lower-case name of an activation ("linear" for None).</summary>
    public static string Name(Activation a) => a == Activation.None ? "linear" : a.ToString().ToLowerInvariant();

    /// <summary>Parses a Keras activation name.</summary>
    public static Activation Parse(string s) => s switch
    {
        "linear" or "none" or "" => Activation.None,
        "relu" => Activation.Relu,
        "tanh" => Activation.Tanh,
        "softmax" => Activation.Softmax,
        _ => throw new ArgumentException($"Unknown activation '{s}'; expected linear, relu, tanh or softmax."),
    };
}
