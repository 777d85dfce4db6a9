namespace ConvNet;

/// <summary>Activation functions that <see cref="Conv2D"/>, <see cref="Dense"/> and <see cref="ActivationLayer"/> apply to their output
/// (Keras' <c>activation=</c>; the Keras string names are in parentheses).</summary>
public enum Activation
{
    /// <summary>Linear (Keras <c>None</c>, <c>"linear"</c>): y = x.</summary>
    None,
    /// <summary>y = max(x, 0) (<c>"relu"</c>).</summary>
    Relu,
    /// <summary>y = tanh(x) (<c>"tanh"</c>).</summary>
    Tanh,
    /// <summary>Row-wise softmax over the last axis (<c>"softmax"</c>).</summary>
    Softmax,
    /// <summary>y = 1/(1 + e^(−x)) (<c>"sigmoid"</c>).</summary>
    Sigmoid,
    /// <summary>y = eˣ (<c>"exponential"</c>).</summary>
    Exponential,
    /// <summary>y = x &gt; 0 ? x : 0.2·x (<c>"leaky_relu"</c>: Keras' activation uses slope 0.2; the <see cref="LeakyReLU"/> layer defaults to 0.3).</summary>
    LeakyRelu,
    /// <summary>y = x &gt; 0 ? x : eˣ − 1 (<c>"elu"</c>, alpha 1).</summary>
    Elu,
    /// <summary>y = 1.0507·(x &gt; 0 ? x : 1.6733·(eˣ − 1)) (<c>"selu"</c>).</summary>
    Selu,
    /// <summary>y = x·σ(x) (<c>"silu"</c>; <c>"swish"</c> is the same function).</summary>
    Silu,
    /// <summary>The same as <see cref="Silu"/> (Keras' alias <c>"swish"</c>).</summary>
    Swish = Silu,
    /// <summary>y = x·Φ(x), the exact erf form (<c>"gelu"</c>, Keras' default <c>approximate=False</c>).</summary>
    Gelu,
    /// <summary>y = ½x·(1 + tanh(√(2/π)(x + 0.044715x³))) (Keras <c>gelu(approximate=True)</c>; saved as <c>"gelu_approximate"</c>).</summary>
    GeluApproximate,
}
