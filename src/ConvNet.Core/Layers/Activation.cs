namespace ConvNet;

/// <summary>Activation functions that <see cref="Conv2D"/> and <see cref="Dense"/> can apply to their output (Keras' <c>activation=</c>).</summary>
public enum Activation
{
    /// <summary>Linear (Keras <c>None</c>): y = x.</summary>
    None,
    /// <summary>y = max(x, 0).</summary>
    Relu,
    /// <summary>y = tanh(x).</summary>
    Tanh,
    /// <summary>Row-wise softmax over the last axis.</summary>
    Softmax,
}
