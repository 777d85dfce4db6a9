using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Applies an <see cref="Activation"/> in place and back-propagates through it (shared by Conv2D, Dense and the activation layers).</summary>
internal static class ActivationOps
{
    /// <summary>Slope of Keras' <c>"leaky_relu"</c> activation string (the <see cref="LeakyReLU"/> layer's default is 0.3).</summary>
    public const float LeakyReluSlope = 0.2f;

    /// <summary>y = act(y) in place; rows × cols is the softmax layout (last axis).</summary>
    public static void Forward(Activation a, Span<float> y, int cols)
    {
        switch (a)
        {
            case Activation.Relu: Activations.ReluForward(y, y); break;
            case Activation.Tanh: Activations.TanhForward(y, y); break;
            case Activation.Softmax: Activations.SoftmaxForward(y.Length / cols, cols, y, y); break;
            case Activation.Sigmoid: Activations.SigmoidForward(y, y); break;
            case Activation.Exponential: Activations.ExponentialForward(y, y); break;
            case Activation.LeakyRelu: Activations.LeakyReluForward(y, y, LeakyReluSlope); break;
            case Activation.Elu: Activations.EluForward(y, y); break;
            case Activation.Selu: Activations.SeluForward(y, y); break;
            case Activation.Silu: Activations.SiluForward(y, y); break;
            case Activation.Gelu: Activations.GeluForward(y, y); break;
            case Activation.GeluApproximate: Activations.GeluForward(y, y, approximate: true); break;
        }
    }

    /// <summary>True if the derivative needs the pre-activation input x, not only the output y (SiLU and GELU):
    /// callers then keep a copy of x and use the <see cref="Backward(Activation, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int)"/> overload with it.</summary>
    public static bool NeedsInput(Activation a) => a is Activation.Silu or Activation.Gelu or Activation.GeluApproximate;

    /// <summary>dz = act'(·) ⊙ dy, given the activation output y (dz is overwritten). Not for <see cref="NeedsInput"/> activations.</summary>
    public static void Backward(Activation a, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int cols)
    {
        if (NeedsInput(a)) throw new InvalidOperationException($"The {Name(a)} derivative needs the activation's input; use the overload that takes it.");
        Backward(a, default, y, dy, dz, cols);
    }

    /// <summary>dz = act'(·) ⊙ dy, given the input x (read only when <see cref="NeedsInput"/>) and the output y (dz is overwritten).</summary>
    public static void Backward(Activation a, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int cols)
    {
        if (a == Activation.None) { dy.CopyTo(dz); return; }
        dz.Clear();
        switch (a)
        {
            case Activation.Relu: Activations.ReluBackward(y, dy, dz); break;
            case Activation.Tanh: Activations.TanhBackward(y, dy, dz); break;
            case Activation.Softmax: Activations.SoftmaxBackward(y.Length / cols, cols, y, dy, dz); break;
            case Activation.Sigmoid: Activations.SigmoidBackward(y, dy, dz); break;
            case Activation.Exponential: Activations.ExponentialBackward(y, dy, dz); break;
            case Activation.LeakyRelu: Activations.LeakyReluBackward(y, dy, dz, LeakyReluSlope); break;
            case Activation.Elu: Activations.EluBackward(y, dy, dz); break;
            case Activation.Selu: Activations.SeluBackward(y, dy, dz); break;
            case Activation.Silu: Activations.SiluBackward(x, dy, dz); break;
            case Activation.Gelu: Activations.GeluBackward(x, dy, dz); break;
            case Activation.GeluApproximate: Activations.GeluBackward(x, dy, dz, approximate: true); break;
        }
    }

    /// <summary>Keras' lower-case name of an activation ("linear" for None).</summary>
    public static string Name(Activation a) => a switch
    {
        Activation.None => "linear",
        Activation.LeakyRelu => "leaky_relu",
        Activation.GeluApproximate => "gelu_approximate",
        _ => a.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a Keras activation name.</summary>
    public static Activation Parse(string s) => s switch
    {
        "linear" or "none" or "" => Activation.None,
        "relu" => Activation.Relu,
        "tanh" => Activation.Tanh,
        "softmax" => Activation.Softmax,
        "sigmoid" => Activation.Sigmoid,
        "exponential" => Activation.Exponential,
        "leaky_relu" => Activation.LeakyRelu,
        "elu" => Activation.Elu,
        "selu" => Activation.Selu,
        "silu" or "swish" => Activation.Silu,
        "gelu" => Activation.Gelu,
        "gelu_approximate" => Activation.GeluApproximate,
        _ => throw new ArgumentException($"Unknown activation '{s}'; expected one of: {KnownNames}."),
    };

    /// <summary>The names <see cref="Parse"/> accepts, for error messages.</summary>
    public const string KnownNames = "linear, relu, tanh, softmax, sigmoid, exponential, leaky_relu, elu, selu, silu, swish, gelu, gelu_approximate";
}
