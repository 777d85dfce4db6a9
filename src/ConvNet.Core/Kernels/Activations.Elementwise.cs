using System.Numerics;

namespace ConvNet.Kernels;

/// <summary>
/// One elementwise activation as a small operator struct (the dotnet/runtime TensorPrimitives pattern): the function and
/// its backward on a scalar and on a <see cref="Vector{T}"/>. <see cref="Elementwise"/> holds the one shared loop (vector
/// body, scalar tail) for the forward and for both backward forms (accumulate into dx, or overwrite it).
/// The backward receives the input x and the output y; ops whose derivative needs only y say so
/// (<see cref="UsesOutput"/>), so layers that keep only the output can still back-propagate.
/// </summary>
internal interface IActivationOp
{
    /// <summary>True if <see cref="AddGradient(float, float, float, float)"/> reads only y (x may then be passed as y).</summary>
    bool UsesOutput { get; }
    float Forward(float x);
    Vector<float> Forward(Vector<float> x);
    /// <summary>dx + f'(x)·dy, with y = f(x) (the overwrite form passes dx = 0).</summary>
    float AddGradient(float x, float y, float dy, float dx);
    Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx);
}

/// <summary>max(x, 0); the gradient passes dy where y &gt; 0 and nothing else (the derivative at 0 is 0, as in TF).</summary>
internal readonly struct ReluOp : IActivationOp
{
    public bool UsesOutput => true;
    public float Forward(float x) => x > 0f ? x : 0f;
    public Vector<float> Forward(Vector<float> x) => Vector.Max(x, Vector<float>.Zero);
    public float AddGradient(float x, float y, float dy, float dx) => y > 0f ? dx + dy : dx;
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) =>
        dx + Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), dy, Vector<float>.Zero);
}

/// <summary>tanh (the layers' forward runs <c>TensorPrimitives.Tanh</c>); derivative 1 − y².</summary>
internal readonly struct TanhOp : IActivationOp
{
    public bool UsesOutput => true;
    public float Forward(float x) => MathF.Tanh(x);
    public Vector<float> Forward(Vector<float> x) => Vector<float>.One - new Vector<float>(2f) / (Vector<float>.One + Vector.Exp(x * 2f));
    public float AddGradient(float x, float y, float dy, float dx) => dx + dy * (1f - y * y);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => dx + dy * (Vector<float>.One - y * y);
}

internal readonly struct SigmoidOp : IActivationOp
{
    public bool UsesOutput => true;
    public float Forward(float x) => 1f / (1f + MathF.Exp(-x));
    public Vector<float> Forward(Vector<float> x) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) => y * (1f - y);
    private Vector<float> Derivative(Vector<float> x, Vector<float> y) => y * (Vector<float>.One - y);
}

internal readonly struct ExponentialOp : IActivationOp
{
    public bool UsesOutput => true;
    public float Forward(float x) => MathF.Exp(x);
    public Vector<float> Forward(Vector<float> x) => Vector.Exp(x);
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) => y;
    private Vector<float> Derivative(Vector<float> x, Vector<float> y) => y;
}

/// <summary>x &gt; 0 ? x : slope·x. The derivative reads the sign of y (the same as x's for slope &gt; 0; at 0 it is slope).</summary>
internal readonly struct LeakyReluOp(float slope) : IActivationOp
{
    public bool UsesOutput => true;
    public float Forward(float x) => x > 0f ? x : slope * x;
    public Vector<float> Forward(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, x * slope);
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) => y > 0f ? 1f : slope;
    private Vector<float> Derivative(Vector<float> x, Vector<float> y) =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), Vector<float>.One, new Vector<float>(slope));
}

/// <summary>ELU with alpha 1 (Keras' default): x &gt; 0 ? x : eˣ − 1; derivative 1 or y + 1.</summary>
internal readonly struct EluOp : IActivationOp
{
    public bool UsesOutput => true;
    public float Forward(float x) => x > 0f ? x : MathF.Exp(x) - 1f;
    public Vector<float> Forward(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, Vector.Exp(Vector.Min(x, Vector<float>.Zero)) - Vector<float>.One);
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) => y > 0f ? 1f : y + 1f;
    private Vector<float> Derivative(Vector<float> x, Vector<float> y) =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), Vector<float>.One, y + Vector<float>.One);
}

/// <summary>SELU: scale·(x &gt; 0 ? x : alpha·(eˣ − 1)) with Keras' constants; derivative scale or y + scale·alpha.</summary>
internal readonly struct SeluOp : IActivationOp
{
    public const float Alpha = 1.67326324235437728481f, Scale = 1.05070098735548049342f;
    public bool UsesOutput => true;
    public float Forward(float x) => x > 0f ? Scale * x : Scale * Alpha * (MathF.Exp(x) - 1f);
    public Vector<float> Forward(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x * Scale,
            (Vector.Exp(Vector.Min(x, Vector<float>.Zero)) - Vector<float>.One) * (Scale * Alpha));
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) => y > 0f ? Scale : y + Scale * Alpha;
    private Vector<float> Derivative(Vector<float> x, Vector<float> y) =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), new Vector<float>(Scale), y + new Vector<float>(Scale * Alpha));
}

/// <summary>SiLU / swish: x·σ(x); derivative σ(x)·(1 + x·(1 − σ(x))) (needs x).</summary>
internal readonly struct SiluOp : IActivationOp
{
    public bool UsesOutput => false;
    public float Forward(float x) => x / (1f + MathF.Exp(-x));
    public Vector<float> Forward(Vector<float> x) => x / (Vector<float>.One + Vector.Exp(-x));
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) { float s = 1f / (1f + MathF.Exp(-x)); return s * (1f + x * (1f - s)); }
    private Vector<float> Derivative(Vector<float> x, Vector<float> y)
    {
        var s = Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));
        return s * (Vector<float>.One + x * (Vector<float>.One - s));
    }
}

/// <summary>GELU, exact (erf) form: x·Φ(x); derivative Φ(x) + x·φ(x). Φ uses Abramowitz–Stegun 7.1.26 for erfc (|error| ≤ 1.5e-7).</summary>
internal readonly struct GeluOp : IActivationOp
{
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f;
    public bool UsesOutput => false;

    /// <summary>Φ(x) = ½·erfc(−x/√2), from erfc(z) ≈ poly(t)·e^(−z²), t = 1/(1 + p·z), z = |x|/√2.</summary>
    internal static float Phi(float x)
    {
        float z = MathF.Abs(x) * InvSqrt2, t = 1f / (1f + P * z);
        float q = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * MathF.Exp(-z * z);
        return x >= 0f ? 1f - 0.5f * q : 0.5f * q;
    }

    internal static Vector<float> Phi(Vector<float> x)
    {
        var z = Vector.Abs(x) * InvSqrt2;
        var t = Vector<float>.One / (Vector<float>.One + z * P);
        var poly = ((((new Vector<float>(A5) * t + new Vector<float>(A4)) * t + new Vector<float>(A3)) * t + new Vector<float>(A2)) * t + new Vector<float>(A1)) * t;
        var half = poly * Vector.Exp(-(z * z)) * 0.5f;
        return Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), Vector<float>.One - half, half);
    }

    public float Forward(float x) => x * Phi(x);
    public Vector<float> Forward(Vector<float> x) => x * Phi(x);
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) => Phi(x) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x);
    private Vector<float> Derivative(Vector<float> x, Vector<float> y) => Phi(x) + x * InvSqrt2Pi * Vector.Exp(x * x * -0.5f);
}

/// <summary>GELU, tanh approximation: ½x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715x³); tanh(u) = 1 − 2/(1 + e^(2u)).</summary>
internal readonly struct GeluTanhOp : IActivationOp
{
    private const float K = 0.79788456080286536f, C = 0.044715f;
    public bool UsesOutput => false;
    private static float T(float x) => 1f - 2f / (1f + MathF.Exp(2f * K * (x + C * x * x * x)));
    private static Vector<float> T(Vector<float> x) => Vector<float>.One - new Vector<float>(2f) / (Vector<float>.One + Vector.Exp((x + x * x * x * C) * (2f * K)));
    public float Forward(float x) => 0.5f * x * (1f + T(x));
    public Vector<float> Forward(Vector<float> x) => x * 0.5f * (Vector<float>.One + T(x));
    public float AddGradient(float x, float y, float dy, float dx) => MathF.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    public Vector<float> AddGradient(Vector<float> x, Vector<float> y, Vector<float> dy, Vector<float> dx) => Vector.FusedMultiplyAdd(Derivative(x, y), dy, dx);
    private float Derivative(float x, float y) { float t = T(x); return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * K * (1f + 3f * C * x * x); }
    private Vector<float> Derivative(Vector<float> x, Vector<float> y)
    {
        var t = T(x);
        var one = Vector<float>.One;
        return (one + t) * 0.5f + x * 0.5f * (one - t * t) * K * (one + x * x * (3f * C));
    }
}

public static partial class Activations
{
    /// <summary>y = op(x) (y may be x).</summary>
    internal static void Map<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IActivationOp
    {
        CheckSame(x.Length, y.Length, typeof(TOp).Name);
        Elementwise.Forward(op, x, y);
    }

    /// <summary>dx += op'(x, y) ⊙ dy. For ops with <see cref="IActivationOp.UsesOutput"/> x may be y.</summary>
    internal static void MapBackward<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) where TOp : struct, IActivationOp
    {
        CheckSame(x.Length, dy.Length, typeof(TOp).Name); CheckSame(y.Length, dy.Length, typeof(TOp).Name); CheckSame(dx.Length, dy.Length, typeof(TOp).Name);
        Elementwise.Backward<TOp, Accumulate>(op, x, y, dy, dx);
    }

    /// <summary>y = 1/(1 + e^(−x)).</summary>
    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> y) => Map(new SigmoidOp(), x, y);
    /// <summary>dx += dy · y(1 − y).</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new SigmoidOp(), y, y, dy, dx);
    /// <summary>y = eˣ.</summary>
    public static void ExponentialForward(ReadOnlySpan<float> x, Span<float> y) => Map(new ExponentialOp(), x, y);
    /// <summary>dx += dy · y.</summary>
    public static void ExponentialBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new ExponentialOp(), y, y, dy, dx);
    /// <summary>y = x &gt; 0 ? x : slope·x.</summary>
    public static void LeakyReluForward(ReadOnlySpan<float> x, Span<float> y, float negativeSlope) => Map(new LeakyReluOp(negativeSlope), x, y);
    /// <summary>dx += dy · (y &gt; 0 ? 1 : slope) (needs slope ≥ 0 so that y's sign is x's).</summary>
    public static void LeakyReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float negativeSlope) => MapBackward(new LeakyReluOp(negativeSlope), y, y, dy, dx);
    /// <summary>y = x &gt; 0 ? x : eˣ − 1 (alpha 1).</summary>
    public static void EluForward(ReadOnlySpan<float> x, Span<float> y) => Map(new EluOp(), x, y);
    /// <summary>dx += dy · (y &gt; 0 ? 1 : y + 1).</summary>
    public static void EluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new EluOp(), y, y, dy, dx);
    /// <summary>y = scale·(x &gt; 0 ? x : alpha·(eˣ − 1)), scale ≈ 1.0507, alpha ≈ 1.6733.</summary>
    public static void SeluForward(ReadOnlySpan<float> x, Span<float> y) => Map(new SeluOp(), x, y);
    /// <summary>dx += dy · (y &gt; 0 ? scale : y + scale·alpha).</summary>
    public static void SeluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new SeluOp(), y, y, dy, dx);
    /// <summary>y = x·σ(x) (SiLU, also called swish).</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> y) => Map(new SiluOp(), x, y);
    /// <summary>dx += dy · σ(x)(1 + x(1 − σ(x))) — from the input x.</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new SiluOp(), x, x, dy, dx);
    /// <summary>y = GELU(x): x·Φ(x) (erf form, Keras' default) or the tanh approximation.</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y, bool approximate = false)
    {
        if (approximate) Map(new GeluTanhOp(), x, y); else Map(new GeluOp(), x, y);
    }
    /// <summary>dx += dy · GELU'(x) — from the input x.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool approximate = false)
    {
        if (approximate) MapBackward(new GeluTanhOp(), x, x, dy, dx); else MapBackward(new GeluOp(), x, x, dy, dx);
    }
}
