using System.Numerics;
using System.Runtime.InteropServices;

namespace ConvNet;

/// <summary>
/// Updates parameters from their gradients, then zeroes the gradients. The learning rate is a number
/// (<see cref="LearningRate"/>, settable, e.g. by <see cref="ReduceLROnPlateau"/>) or a <see cref="LearningRateSchedule"/>
/// evaluated at <see cref="Iterations"/> before each update, as in Keras.
/// <para>
/// State (moments, velocities, the step count) belongs to the optimiser instance and is created per parameter on its first
/// update. Re-compiling a model with a <em>new</em> optimiser therefore starts from fresh state, as Keras'
/// <c>compile()</c> does; compiling again with the <em>same</em> instance keeps its state and step count.
/// </para>
/// </summary>
public abstract class Optimizer
{
    private float _learningRate;
    private Parameter? _current;
    private readonly Action<int, int, int> _part;

    /// <summary>Creates the optimiser with a constant (settable) learning rate.</summary>
    protected Optimizer(float learningRate)
    {
        _learningRate = CheckRate(learningRate, nameof(learningRate));
        _part = (_, start, count) => UpdateAndClear(_current!, start, count);
    }

    /// <summary>Creates the optimiser with a learning-rate schedule.</summary>
    protected Optimizer(LearningRateSchedule learningRate)
    {
        ArgumentNullException.ThrowIfNull(learningRate);
        Schedule = learningRate;
        _part = (_, start, count) => UpdateAndClear(_current!, start, count);
    }

    /// <summary>The schedule given instead of a number, or null.</summary>
    public LearningRateSchedule? Schedule { get; }

    /// <summary>
    /// The learning rate the next update will use (with a schedule: its value at <see cref="Iterations"/>).
    /// Setting it requires a positive, finite value and an optimiser without a schedule.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite or ≤ 0.</exception>
    /// <exception cref="InvalidOperationException">The optimiser was created with a <see cref="LearningRateSchedule"/>.</exception>
    public float LearningRate
    {
        get => Schedule is null ? _learningRate : (float)Schedule.At(Iterations);
        set
        {
            if (Schedule is not null)
                throw new InvalidOperationException($"This optimizer was created with a learning-rate schedule ({Schedule.GetType().Name}), so its learning rate cannot be set; create it with a number to set it.");
            _learningRate = CheckRate(value, nameof(value));
        }
    }

    private static float CheckRate(float value, string name) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, $"Learning rate must be positive and finite, got {value}.");

    /// <summary>The learning rate of the update in progress (fixed in <see cref="BeginStep"/>; read by <see cref="Update"/> on any thread).</summary>
    protected float StepLearningRate { get; private set; }

    /// <summary>Number of steps taken.</summary>
    public long Iterations { get; protected set; }

    /// <summary>Threads used to update large parameters (set by the model); element ranges are independent, so results do not depend on it.</summary>
    internal int Threads { get; set; } = 1;

    /// <summary>One update of every parameter in <paramref name="parameters"/>; zeroes their gradients.</summary>
    public void Step(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        BeginStep();
        for (int i = 0; i < parameters.Count; i++) Apply(parameters[i]);
    }

    /// <summary>
    /// Starts one step: fixes the step's learning rate (a schedule is evaluated at the count of completed steps) and
    /// advances <see cref="Iterations"/>; follow with <see cref="Apply"/> per parameter.
    /// </summary>
    /// <exception cref="InvalidOperationException">A schedule returned a negative or non-finite rate (nothing is changed).</exception>
    internal void BeginStep()
    {
        float lr = _learningRate;
        if (Schedule is not null)
        {
            double s = Schedule.At(Iterations);
            if (!(s >= 0) || !double.IsFinite(s))
                throw new InvalidOperationException($"Learning-rate schedule {Schedule.GetType().Name} returned {s} at step {Iterations}; rates must be finite and ≥ 0.");
            lr = (float)s;
        }
        StepLearningRate = lr;
        Iterations++;
    }

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

    private protected static float Fraction(float value, string name, bool allowZero = true) =>
        (allowZero ? value >= 0 : value > 0) && value < 1 ? value
            : throw new ArgumentOutOfRangeException(name, $"{name} must be in {(allowZero ? "[0" : "(0")}, 1), got {value}.");

    private protected static float PositiveFinite(float value, string name) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, $"{name} must be positive and finite, got {value}.");
}

/// <summary>
/// Adam with Keras 3 defaults and update rule: α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ); m += (g − m)(1−β₁);
/// v += (g² − v)(1−β₂); with <c>amsgrad</c> v̂ = max(v̂, v) replaces v below; θ −= α·m/(√v + ε).
/// </summary>
public class Adam : Optimizer
{
    private readonly Dictionary<Parameter, float[]> _m = [], _v = [], _vHat = [];

    /// <summary>Creates the optimiser (Keras 3 defaults).</summary>
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false)
        : base(learningRate) => (Beta1, Beta2, Epsilon, Amsgrad) = Check(beta1, beta2, epsilon, amsgrad);

    /// <summary>Creates the optimiser with a learning-rate schedule.</summary>
    public Adam(LearningRateSchedule learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false)
        : base(learningRate) => (Beta1, Beta2, Epsilon, Amsgrad) = Check(beta1, beta2, epsilon, amsgrad);

    private static (float, float, float, bool) Check(float beta1, float beta2, float epsilon, bool amsgrad) =>
        (Fraction(beta1, nameof(beta1)), Fraction(beta2, nameof(beta2)), PositiveFinite(epsilon, nameof(epsilon)), amsgrad);

    /// <summary>β₁.</summary>
    public float Beta1 { get; }
    /// <summary>β₂.</summary>
    public float Beta2 { get; }
    /// <summary>ε.</summary>
    public float Epsilon { get; }
    /// <summary>Whether the AMSGrad variant (running maximum of v) is used.</summary>
    public bool Amsgrad { get; }

    /// <summary>Decoupled weight decay per unit learning rate (0 for Adam; see <see cref="AdamW"/>).</summary>
    private protected float Decay { get; init; }

    /// <inheritdoc/>
    protected override void Prepare(Parameter p)
    {
        State(_m, p); State(_v, p);
        if (Amsgrad) State(_vHat, p);
    }

    /// <inheritdoc/>
    protected override void Update(Parameter p, int start, int count)
    {
        var value = p.Value.Span.Slice(start, count); ReadOnlySpan<float> grad = p.Grad.Span.Slice(start, count);
        var m = _m[p].AsSpan(start, count); var v = _v[p].AsSpan(start, count);
        var vh = Amsgrad ? _vHat[p].AsSpan(start, count) : v;   // without AMSGrad, v itself is the denominator's state
        float lr = StepLearningRate;
        float alpha = (float)(lr * Math.Sqrt(1 - Math.Pow(Beta2, Iterations)) / (1 - Math.Pow(Beta1, Iterations)));
        bool decay = Decay != 0, ams = Amsgrad;
        float b1 = 1 - Beta1, b2 = 1 - Beta2;
        int V = Vector<float>.Count, i = 0, n = value.Length;
        var vb1 = new Vector<float>(b1); var vb2 = new Vector<float>(b2); var va = new Vector<float>(alpha); var ve = new Vector<float>(Epsilon);
        var vwd = new Vector<float>(lr * Decay);   // AdamW: θ ← θ − θ·wd·lr before the Adam step (Keras 3 applies decay first)
        ref float pr = ref MemoryMarshal.GetReference(value); ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float mr = ref MemoryMarshal.GetReference(m); ref float vr = ref MemoryMarshal.GetReference(v);
        ref float hr = ref MemoryMarshal.GetReference(vh);
        for (; i + V <= n; i += V)
        {
            var g = Vector.LoadUnsafe(ref gr, (nuint)i);
            var mv = Vector.LoadUnsafe(ref mr, (nuint)i); mv += (g - mv) * vb1;
            var vv = Vector.LoadUnsafe(ref vr, (nuint)i); vv += (g * g - vv) * vb2;
            Vector.StoreUnsafe(mv, ref mr, (nuint)i); Vector.StoreUnsafe(vv, ref vr, (nuint)i);
            if (ams) { vv = Vector.Max(Vector.LoadUnsafe(ref hr, (nuint)i), vv); Vector.StoreUnsafe(vv, ref hr, (nuint)i); }
            var theta = Vector.LoadUnsafe(ref pr, (nuint)i);
            if (decay) theta -= theta * vwd;
            Vector.StoreUnsafe(theta - va * mv / (Vector.SquareRoot(vv) + ve), ref pr, (nuint)i);
        }
        for (; i < n; i++)
        {
            float g = grad[i];
            m[i] += (g - m[i]) * b1;
            v[i] += (g * g - v[i]) * b2;
            float denom = v[i];
            if (ams) { vh[i] = MathF.Max(vh[i], v[i]); denom = vh[i]; }
            float theta = value[i];
            if (decay) theta -= theta * (lr * Decay);
            value[i] = theta - alpha * m[i] / (MathF.Sqrt(denom) + Epsilon);
        }
    }
}

/// <summary>
/// Keras 3 <c>AdamW</c>: Adam with decoupled weight decay. Before each Adam update every trained parameter is shrunk as
/// θ ← θ − θ·weightDecay·lr (lr: the step's learning rate, scheduled or not), exactly as Keras 3's
/// <c>_apply_weight_decay</c> does; biases are decayed too (Keras 3 excludes nothing by default).
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimiser (Keras 3 defaults: weight decay 0.004).</summary>
    public AdamW(float learningRate = 0.001f, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false)
        : base(learningRate, beta1, beta2, epsilon, amsgrad) => Decay = WeightDecay = CheckDecay(weightDecay);

    /// <summary>Creates the optimiser with a learning-rate schedule.</summary>
    public AdamW(LearningRateSchedule learningRate, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false)
        : base(learningRate, beta1, beta2, epsilon, amsgrad) => Decay = WeightDecay = CheckDecay(weightDecay);

    private static float CheckDecay(float wd) =>
        wd >= 0 && float.IsFinite(wd) ? wd : throw new ArgumentOutOfRangeException(nameof(wd), $"weightDecay must be finite and ≥ 0, got {wd}.");

    /// <summary>The decoupled weight-decay coefficient.</summary>
    public float WeightDecay { get; }
}

/// <summary>
/// RMSprop with Keras 3 defaults and update rule: v = ρ·v + (1−ρ)·g²; with <c>centered</c> also a = ρ·a + (1−ρ)·g and
/// the denominator √(v − a² + ε), else √(v + ε); Δ = lr·g/denominator; with momentum μ &gt; 0, u = μ·u + Δ and θ −= u,
/// else θ −= Δ.
/// </summary>
public sealed class RMSprop : Optimizer
{
    private readonly Dictionary<Parameter, float[]> _v = [], _u = [], _a = [];

    /// <summary>Creates the optimiser (Keras 3 defaults).</summary>
    public RMSprop(float learningRate = 0.001f, float rho = 0.9f, float momentum = 0f, float epsilon = 1e-7f, bool centered = false)
        : base(learningRate) => (Rho, Momentum, Epsilon, Centered) = Check(rho, momentum, epsilon, centered);

    /// <summary>Creates the optimiser with a learning-rate schedule.</summary>
    public RMSprop(LearningRateSchedule learningRate, float rho = 0.9f, float momentum = 0f, float epsilon = 1e-7f, bool centered = false)
        : base(learningRate) => (Rho, Momentum, Epsilon, Centered) = Check(rho, momentum, epsilon, centered);

    private static (float, float, float, bool) Check(float rho, float momentum, float epsilon, bool centered) =>
        (Fraction(rho, nameof(rho)), Fraction(momentum, nameof(momentum)), PositiveFinite(epsilon, nameof(epsilon)), centered);

    /// <summary>ρ, the discount of the squared-gradient average.</summary>
    public float Rho { get; }
    /// <summary>Momentum μ (0: none).</summary>
    public float Momentum { get; }
    /// <summary>ε, added under the square root.</summary>
    public float Epsilon { get; }
    /// <summary>Whether the variance (v − a²) is used instead of the second moment.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override void Prepare(Parameter p)
    {
        State(_v, p);
        if (Momentum > 0) State(_u, p);
        if (Centered) State(_a, p);
    }

    /// <inheritdoc/>
    protected override void Update(Parameter p, int start, int count)
    {
        var value = p.Value.Span.Slice(start, count); ReadOnlySpan<float> grad = p.Grad.Span.Slice(start, count);
        var v = _v[p].AsSpan(start, count);
        bool mom = Momentum > 0, centered = Centered;
        var u = mom ? _u[p].AsSpan(start, count) : v;
        var a = centered ? _a[p].AsSpan(start, count) : v;
        float lr = StepLearningRate, rho = Rho, b = 1 - Rho, mu = Momentum, eps = Epsilon;
        int V = Vector<float>.Count, i = 0, n = value.Length;
        var vrho = new Vector<float>(rho); var vb = new Vector<float>(b); var vlr = new Vector<float>(lr);
        var veps = new Vector<float>(eps); var vmu = new Vector<float>(mu);
        ref float pr = ref MemoryMarshal.GetReference(value); ref float gr = ref MemoryMarshal.GetReference(grad);
        ref float vr = ref MemoryMarshal.GetReference(v); ref float ur = ref MemoryMarshal.GetReference(u);
        ref float ar = ref MemoryMarshal.GetReference(a);
        for (; i + V <= n; i += V)
        {
            var g = Vector.LoadUnsafe(ref gr, (nuint)i);
            var vv = vrho * Vector.LoadUnsafe(ref vr, (nuint)i) + vb * (g * g);
            Vector.StoreUnsafe(vv, ref vr, (nuint)i);
            var denom = vv + veps;
            if (centered)
            {
                var av = vrho * Vector.LoadUnsafe(ref ar, (nuint)i) + vb * g;
                Vector.StoreUnsafe(av, ref ar, (nuint)i);
                denom = vv - av * av + veps;
            }
            var inc = vlr * g / Vector.SquareRoot(denom);
            if (mom)
            {
                inc = vmu * Vector.LoadUnsafe(ref ur, (nuint)i) + inc;
                Vector.StoreUnsafe(inc, ref ur, (nuint)i);
            }
            Vector.StoreUnsafe(Vector.LoadUnsafe(ref pr, (nuint)i) - inc, ref pr, (nuint)i);
        }
        for (; i < n; i++)
        {
            float g = grad[i];
            v[i] = rho * v[i] + b * (g * g);
            float denom = v[i] + eps;
            if (centered) { a[i] = rho * a[i] + b * g; denom = v[i] - a[i] * a[i] + eps; }
            float inc = lr * g / MathF.Sqrt(denom);
            if (mom) { u[i] = mu * u[i] + inc; inc = u[i]; }
            value[i] -= inc;
        }
    }
}

/// <summary>
/// Stochastic gradient descent like Keras 3: without momentum θ −= lr·g; with momentum
/// u = μ·u − lr·g, then θ += u (or θ += μ·u − lr·g with Nesterov).
/// </summary>
public sealed class SGD : Optimizer
{
    private readonly Dictionary<Parameter, float[]> _u = [];

    /// <summary>Creates the optimiser (Keras 3 defaults).</summary>
    public SGD(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false) : base(learningRate)
        => (Momentum, Nesterov) = (CheckMomentum(momentum), nesterov);

    /// <summary>Creates the optimiser with a learning-rate schedule.</summary>
    public SGD(LearningRateSchedule learningRate, float momentum = 0f, bool nesterov = false) : base(learningRate)
        => (Momentum, Nesterov) = (CheckMomentum(momentum), nesterov);

    private static float CheckMomentum(float momentum) =>
        momentum >= 0 && momentum < 1 ? momentum : throw new ArgumentOutOfRangeException(nameof(momentum), $"Momentum must be in [0, 1), got {momentum}.");

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; }
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Prepare(Parameter p) { if (Momentum != 0) State(_u, p); }

    /// <inheritdoc/>
    protected override void Update(Parameter p, int start, int count)
    {
        var value = p.Value.Span.Slice(start, count); ReadOnlySpan<float> grad = p.Grad.Span.Slice(start, count);
        float lr = StepLearningRate, mu = Momentum;
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
