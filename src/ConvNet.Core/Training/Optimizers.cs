using System.Numerics;
using System.Runtime.InteropServices;

namespace ConvNet;

/// <summary>Updates parameters from their gradients, then zeroes the gradients.</summary>
public abstract class Optimizer
{
    /// <summary>Learning rate.</summary>
    public float LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public long Iterations { get; protected set; }

    private Parameter? _current;
    private readonly Action<int, int, int> _part;

    /// <summary>Creates the optimiser.</summary>
    protected Optimizer(float learningRate)
    {
        if (!(learningRate > 0) || !float.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"Learning rate must be positive and finite, got {learningRate}.");
        LearningRate = learningRate;
        _part = (_, start, count) => UpdateAndClear(_current!, start, count);
    }

    /// <summary>Threads used to update large parameters (set by the model); element ranges are independent, so results do not depend on it.</summary>
    internal int Threads { get; set; } = 1;

    /// <summary>One update of every parameter in <paramref name="parameters"/>; zeroes their gradients.</summary>
    public void Step(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        BeginStep();
        for (int i = 0; i < parameters.Count; i++) Apply(parameters[i]);
    }

    /// <summary>Starts one step (advances <see cref="Iterations"/>); follow with <see cref="Apply"/> per parameter.</summary>
    internal void BeginStep() => Iterations++;

    /// <summary>Updates one parameter for the current step and zeroes its gradient (large ones split over <see cref="Threads"/>).</summary>
    internal void Apply(Parameter p)
    {
        Prepare(p);
        int n = p.Value.Length;
        if (Threads > 1 && n >= 1 << 15)
        {
            _current = p;
            Threading.WorkerPool.ForThreads(Threads).Run(n, _part);
            _current = null;
        }
        else UpdateAndClear(p, 0, n);
    }

    private void UpdateAndClear(Parameter p, int start, int count)
    {
        Update(p, start, count);
        p.Grad.Span.Slice(start, count).Clear();
    }

    /// <summary>Creates the per-parameter state before an update (called on the calling thread).</summary>
    protected virtual void Prepare(Parameter p) { }

    /// <summary>Updates elements [start, start + count) of one parameter in one fused loop (may run on several threads for disjoint ranges).</summary>
    protected abstract void Update(Parameter p, int start, int count);

    /// <summary>Per-parameter state buffer (allocated once).</summary>
    protected static float[] State(Dictionary<Parameter, float[]> states, Parameter p)
    {
        if (!states.TryGetValue(p, out var s)) states[p] = s = new float[p.Value.Length];
        return s;
    }
}

/// <summary>
/// Adam with Keras 3 defaults and update rule: α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ); m += (g − m)(1−β₁);
/// v += (g² − v)(1−β₂); θ −= α·m/(√v + ε).
/// </summary>
public sealed class Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f) : Optimizer(learningRate)
{
    private readonly Dictionary<Parameter, float[]> _m = [], _v = [];

    /// <summary>β₁.</summary>
    public float Beta1 { get; } = beta1;
    /// <summary>β₂.</summary>
    public float Beta2 { get; } = beta2;
    /// <summary>ε.</summary>
    public float Epsilon { get; } = epsilon;

    /// <inheritdoc/>
    protected override void Prepare(Parameter p) { State(_m, p); State(_v, p); }

    /// <inheritdoc/>
    protected override void Update(Parameter p, int start, int count)
    {
        var value = p.Value.Span.Slice(start, count); ReadOnlySpan<float> grad = p.Grad.Span.Slice(start, count);
        var m = _m[p].AsSpan(start, count); var v = _v[p].AsSpan(start, count);
        float alpha = (float)(LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, Iterations)) / (1 - Math.Pow(Beta1, Iterations)));
        float b1 = 1 - Beta1, b2 = 1 - Beta2;
        int V = Vector<float>.Count, i = 0, n = value.Length;
        var vb1 = new Vector<float>(b1); var vb2 = new Vector<float>(b2); var va = new Vector<float>(alpha); var ve = new Vector<float>(Epsilon);
        ref float pr = ref MemoryMarshal.GetReference(value); ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float mr = ref MemoryMarshal.GetReference(m); ref float vr = ref MemoryMarshal.GetReference(v);
        for (; i + V <= n; i += V)
        {
            var g = Vector.LoadUnsafe(ref gr, (nuint)i);
            var mv = Vector.LoadUnsafe(ref mr, (nuint)i); mv += (g - mv) * vb1;
            var vv = Vector.LoadUnsafe(ref vr, (nuint)i); vv += (g * g - vv) * vb2;
            Vector.StoreUnsafe(mv, ref mr, (nuint)i); Vector.StoreUnsafe(vv, ref vr, (nuint)i);
            Vector.StoreUnsafe(Vector.LoadUnsafe(ref pr, (nuint)i) - va * mv / (Vector.SquareRoot(vv) + ve), ref pr, (nuint)i);
        }
        for (; i < n; i++)
        {
            float g = grad[i];
            m[i] += (g - m[i]) * b1;
            v[i] += (g * g - v[i]) * b2;
            value[i] -= alpha * m[i] / (MathF.Sqrt(v[i]) + Epsilon);
        }
    }
}

/// <summary>
/// Stochastic gradient descent like Keras 3: without momentum θ −= lr·g; with momentum
/// u = μ·u − lr·g, then θ += u (or θ += μ·u − lr·g with Nesterov).
/// </summary>
public sealed class SGD(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false) : Optimizer(learningRate)
{
    private readonly Dictionary<Parameter, float[]> _u = [];

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; } = momentum >= 0 && momentum < 1 ? momentum : throw new ArgumentOutOfRangeException(nameof(momentum), $"Momentum must be in [0, 1), got {momentum}.");
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; } = nesterov;

    /// <inheritdoc/>
    protected override void Prepare(Parameter p) { if (Momentum != 0) State(_u, p); }

    /// <inheritdoc/>
    protected override void Update(Parameter p, int start, int count)
    {
        var value = p.Value.Span.Slice(start, count); ReadOnlySpan<float> grad = p.Grad.Span.Slice(start, count);
        float lr = LearningRate, mu = Momentum;
        int V = Vector<float>.Count, i = 0, n = value.Length;
        ref float pr = ref MemoryMarshal.GetReference(value); ref float gr = ref MemoryMarshal.GetReference(grad);
        if (mu == 0)
        {
            for (; i + V <= n; i += V) Vector.StoreUnsafe(Vector.LoadUnsafe(ref pr, (nuint)i) - lr * Vector.LoadUnsafe(ref gr, (nuint)i), ref pr, (nuint)i);
            for (; i < n; i++) value[i] -= lr * grad[i];
            return;
        }
        var u = _u[p].AsSpan(start, count);
        ref float ur = ref MemoryMarshal.GetReference(u);
        for (; i + V <= n; i += V)
        {
            var g = Vector.LoadUnsafe(ref gr, (nuint)i);
            var uv = mu * Vector.LoadUnsafe(ref ur, (nuint)i) - lr * g;
            Vector.StoreUnsafe(uv, ref ur, (nuint)i);
            var step = Nesterov ? mu * uv - lr * g : uv;
            Vector.StoreUnsafe(Vector.LoadUnsafe(ref pr, (nuint)i) + step, ref pr, (nuint)i);
        }
        for (; i < n; i++)
        {
            u[i] = mu * u[i] - lr * grad[i];
            value[i] += Nesterov ? mu * u[i] - lr * grad[i] : u[i];
        }
    }
}
