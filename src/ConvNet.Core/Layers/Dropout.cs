using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Shared plumbing of <see cref="Dropout"/> and <see cref="SpatialDropout2D"/>: inverted dropout in training mode, the identity
/// (the input tensor itself) at inference. Masks come from <see cref="DropoutMask"/>: call <c>t</c> of a layer uses the key
/// <c>Key(seed, t)</c>, so the same seed gives the same sequence of masks, whatever the thread count; nothing is stored for the
/// backward pass (it regenerates the mask).
/// </summary>
public abstract class DropoutBase : Layer
{
    private Tensor? _x, _y, _dy, _dx;
    private long _calls;
    private bool _applied;
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

    private protected DropoutBase(float rate, int? seed, string? name) : base(name)
    {
        if (!(rate >= 0f && rate < 1f))
            throw new ArgumentOutOfRangeException(nameof(rate), $"Layer {Display}: rate must be in [0, 1), got {rate}.");
        Rate = rate;
        DropoutSeed = seed;
        _forwardPart = (p, s, cnt) => ApplyPart(_x!, _y!, s, cnt, p);
        _backwardPart = (p, s, cnt) => ApplyPart(_dy!, _dx!, s, cnt, p);
    }

    /// <summary>Fraction of inputs dropped in training, in [0, 1).</summary>
    public float Rate { get; }

    /// <summary>The mask seed given to the constructor; null uses the layer's <see cref="Layer.Seed"/> (set by the model).</summary>
    public int? DropoutSeed { get; }

    /// <summary>The key of the last training-mode forward (tests regenerate its mask).</summary>
    internal ulong LastKey { get; private set; }

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s) => s.ToArray();

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        _applied = training && Rate > 0f;
        if (!_applied) return x;
        LastKey = DropoutMask.Key(DropoutSeed ?? Seed, _calls++);
        _x = x;
        _y = Workspace(ref _y, x.Shape[0], InputShape!);
        Prepare(Parts(x.Shape[0]));
        ForBatch(x.Shape[0], _forwardPart);
        return _y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        if (!_applied) return dy;
        _dy = dy;
        _dx = Workspace(ref _dx, dy.Shape[0], InputShape!);
        Prepare(Parts(dy.Shape[0]));
        ForBatch(dy.Shape[0], _backwardPart);
        return _dx;
    }

    /// <summary>Makes per-part scratch space for <paramref name="parts"/> parts (called before each parallel pass).</summary>
    private protected virtual void Prepare(int parts) { }

    /// <summary>dst = mask ⊙ src / (1 − rate) for images [s, s + cnt) under <see cref="LastKey"/>.</summary>
    private protected abstract void ApplyPart(Tensor src, Tensor dst, int s, int cnt, int part);

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["rate"] = Rate.ToString("R", CultureInfo.InvariantCulture);
        c["seed"] = DropoutSeed is int s ? s.ToString(CultureInfo.InvariantCulture) : "none";
    }

    internal static int? ParseSeed(string s) => s == "none" ? null : int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>Inverted dropout like Keras <c>Dropout(rate, seed)</c>: in training each element is zeroed with probability
/// <see cref="DropoutBase.Rate"/> and the rest are scaled by 1/(1 − rate); at inference the layer is the identity.</summary>
public sealed class Dropout : DropoutBase
{
    /// <summary>Creates the layer; <paramref name="seed"/> null uses the model's seed for this layer.</summary>
    public Dropout(float rate, int? seed = null, string? name = null) : base(rate, seed, name) { }

    /// <inheritdoc/>
    public override string TypeName => "Dropout";

    private protected override void ApplyPart(Tensor src, Tensor dst, int s, int cnt, int part)
    {
        int img = src.Length / src.Shape[0];
        DropoutMask.Apply(src.Span.Slice(s * img, cnt * img), dst.Span.Slice(s * img, cnt * img), LastKey, (long)s * img, Rate);
    }
}

/// <summary>Spatial dropout like Keras <c>SpatialDropout2D(rate, seed)</c>: drops whole feature maps — one decision per
/// (image, channel) of an NHWC batch — and scales the kept ones by 1/(1 − rate); the identity at inference.</summary>
public sealed class SpatialDropout2D : DropoutBase
{
    private float[][] _scratch = [];

    /// <summary>Creates the layer; <paramref name="seed"/> null uses the model's seed for this layer.</summary>
    public SpatialDropout2D(float rate, int? seed = null, string? name = null) : base(rate, seed, name) { }

    /// <inheritdoc/>
    public override string TypeName => "SpatialDropout2D";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3)
            throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"SpatialDropout2D needs rank-4 NHWC input, got rank {s.Count + 1}");
        return s.ToArray();
    }

    private protected override void Prepare(int parts)
    {
        if (_scratch.Length >= parts) return;
        _scratch = new float[parts][];
        for (int p = 0; p < parts; p++) _scratch[p] = new float[InputShape![2]];
    }

    private protected override void ApplyPart(Tensor src, Tensor dst, int s, int cnt, int part)
    {
        int pixels = InputShape![0] * InputShape[1], c = InputShape[2], img = pixels * c;
        DropoutMask.ApplyPerChannel(src.Span.Slice(s * img, cnt * img), dst.Span.Slice(s * img, cnt * img), cnt, pixels, c, LastKey, s, Rate, _scratch[part]);
    }
}
