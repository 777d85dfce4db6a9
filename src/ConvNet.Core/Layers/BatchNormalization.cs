using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Batch normalisation like Keras 3 <c>BatchNormalization</c>: y = (x − μ)/√(σ² + ε)·γ + β per feature of <see cref="Axis"/>.
/// <para>
/// Training mode (<c>training: true</c> and <see cref="Layer.Trainable"/>) normalises with the batch mean and the biased batch
/// variance, back-propagates through both, and updates the non-trainable moving statistics:
/// <c>moving = moving·momentum + batch·(1 − momentum)</c> (the variance with the biased batch variance, as Keras 3 does).
/// Inference mode (<c>training: false</c>, or a frozen layer even when <c>training: true</c> — the Keras 3 rule that transfer
/// learning relies on) normalises with the moving statistics.
/// </para>
/// Weights, in Keras order: gamma (if <see cref="Scale"/>), beta (if <see cref="Center"/>), moving_mean, moving_variance, each of
/// the feature axis' length; gamma starts at 1, beta at 0, the moving mean at 0 and the moving variance at 1.
/// </summary>
public sealed class BatchNormalization : Layer
{
    private const int ChunkElements = 4096;   // float partial sums over at most this many elements, folded into double
    private Tensor? _x, _y, _dy, _dx;
    private int _pre, _c, _inner, _chunkRows, _mode;
    private float[] _mean = [], _inv = [], _scale = [], _shift = [], _a = [], _b = [], _d = [];
    private double[][] _p1 = [], _p2 = [];
    private float[][] _f1 = [], _f2 = [], _f3 = [];
    private float[] _shiftX = [];   // per-channel shift of the one-pass statistics: the batch's first value of each channel
    private bool _batchStats;
    private readonly Action<int, int, int> _reducePart, _affinePart, _backwardDataPart;

    /// <summary>Creates the layer with Keras' defaults.</summary>
    /// <param name="axis">The feature axis, counted on the full (batch-first) shape; negative counts from the end. Default: channels (last).</param>
    /// <param name="momentum">Momentum of the moving averages.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="center">Whether to add the learned offset beta.</param>
    /// <param name="scale">Whether to multiply by the learned gamma.</param>
    /// <param name="name">Layer name (null: a Keras-style default).</param>
    public BatchNormalization(int axis = -1, float momentum = 0.99f, float epsilon = 1e-3f, bool center = true, bool scale = true, string? name = null) : base(name)
    {
        if (!(momentum >= 0f && momentum <= 1f)) throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNormalization: momentum must be in [0, 1], got {momentum}.");
        if (!(epsilon > 0f) || float.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"BatchNormalization: epsilon must be positive, got {epsilon}.");
        Axis = axis; Momentum = momentum; Epsilon = epsilon; Center = center; Scale = scale;
        _reducePart = ReducePart;
        _affinePart = AffinePart;
        _backwardDataPart = BackwardDataPart;
    }

    /// <summary>The normalised (feature) axis of the full shape, as given (−1 = last).</summary>
    public int Axis { get; }
    /// <summary>Momentum of the moving mean and variance.</summary>
    public float Momentum { get; }
    /// <summary>Variance epsilon.</summary>
    public float Epsilon { get; }
    /// <summary>Whether beta is added.</summary>
    public bool Center { get; }
    /// <summary>Whether gamma multiplies.</summary>
    public bool Scale { get; }
    /// <inheritdoc/>
    public override string TypeName => "BatchNormalization";

    /// <summary>gamma (features); null before build or when <see cref="Scale"/> is false. Its values may be set directly (e.g. by an importer).</summary>
    public Parameter? Gamma => Find("gamma");
    /// <summary>beta (features); null before build or when <see cref="Center"/> is false.</summary>
    public Parameter? Beta => Find("beta");
    /// <summary>The moving mean (non-trainable); null before build.</summary>
    public Parameter? MovingMean => Find("moving_mean");
    /// <summary>The moving variance (non-trainable); null before build.</summary>
    public Parameter? MovingVariance => Find("moving_variance");

    private Parameter? Find(string name)
    {
        var ps = Parameters;
        for (int i = 0; i < ps.Count; i++) if (ps[i].Name == name) return ps[i];   // no enumerator: called every step
        return null;
    }

    private int ResolveAxis(int sampleRank, IReadOnlyList<int> s)
    {
        int rank = sampleRank + 1, a = Axis < 0 ? Axis + rank : Axis;
        if (a <= 0 || a >= rank)
            throw Error(Fmt(s, batch: true), Fmt(s, batch: true),
                $"axis {Axis} does not exist for rank-{rank} input (valid: 1 … {rank - 1} or −{rank - 1} … −1; axis 0 is the batch)");
        return a;
    }

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        ResolveAxis(s.Count, s);
        return s.ToArray();
    }

    internal override int[][] ParameterShapes(IReadOnlyList<int> s)
    {
        int c = s[ResolveAxis(s.Count, s) - 1];
        return Enumerable.Repeat(new[] { c }, (Scale ? 1 : 0) + (Center ? 1 : 0) + 2).ToArray();
    }

    /// <inheritdoc/>
    protected override void CreateParameters(int[] s, Rng rng)
    {
        int a = ResolveAxis(s.Length, s);
        _c = s[a - 1];
        _pre = 1; for (int i = 0; i < a - 1; i++) _pre *= s[i];
        _inner = 1; for (int i = a; i < s.Length; i++) _inner *= s[i];
        _chunkRows = Math.Max(1, ChunkElements / (_c * _inner));
        if (Scale) { var g = new Tensor(_c); g.Span.Fill(1f); AddParameter("gamma", g); }
        if (Center) AddParameter("beta", new Tensor(_c));
        AddParameter("moving_mean", new Tensor(_c), trainable: false);
        var v = new Tensor(_c); v.Span.Fill(1f);
        AddParameter("moving_variance", v, trainable: false);
        _mean = new float[_c]; _shiftX = new float[_c]; _inv = new float[_c]; _scale = new float[_c]; _shift = new float[_c];
        _a = new float[_c]; _b = new float[_c]; _d = new float[_c];
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        long m = (long)n * _pre * _inner;
        _x = x;
        _y = Workspace(ref _y, n, InputShape!);
        _batchStats = training && Trainable;
        var mm = MovingMean!.Value.Span; var mv = MovingVariance!.Value.Span;
        if (_batchStats)
        {
            EnsureParts(Parts(n));
            var xs0 = x.Span;
            for (int c = 0; c < _c; c++) _shiftX[c] = xs0.IsEmpty ? 0f : xs0[c * _inner];
            _mode = 0;
            ForBatch(n, _reducePart);
            for (int c = 0; c < _c; c++)
            {
                double s1 = 0, s2 = 0; for (int p = 0; p < Parts(n); p++) { s1 += _p1[p][c]; s2 += _p2[p][c]; }
                double dm = s1 / m;   // mean − shift
                _mean[c] = (float)(_shiftX[c] + dm);
                float variance = (float)Math.Max(s2 / m - dm * dm, 0);
                _inv[c] = 1f / MathF.Sqrt(variance + Epsilon);
                mm[c] = mm[c] * Momentum + _mean[c] * (1f - Momentum);
                mv[c] = mv[c] * Momentum + variance * (1f - Momentum);
            }
        }
        else
        {
            mm.CopyTo(_mean);
            for (int c = 0; c < _c; c++) _inv[c] = 1f / MathF.Sqrt(mv[c] + Epsilon);
        }
        var gamma = Scale ? Gamma!.Value.Span : default;
        var beta = Center ? Beta!.Value.Span : default;
        for (int c = 0; c < _c; c++)
        {
            _scale[c] = (Scale ? gamma[c] : 1f) * _inv[c];
            _shift[c] = (Center ? beta[c] : 0f) - _mean[c] * _scale[c];
        }
        ForBatch(n, _affinePart);
        return _y;
    }

    private void AffinePart(int part, int s, int cnt)
    {
        int img = _pre * _c * _inner;
        BatchNorm.ScaleShift(cnt * _pre, _c, _inner, _x!.Span.Slice(s * img, cnt * img), _scale, _shift, _y!.Span.Slice(s * img, cnt * img));
    }

    // Per-part reductions over images [s, s+cnt), in float chunks of ≤ ChunkElements folded into double:
    // mode 0: Σ(x − s) and Σ(x − s)² about the shift s, from each chunk's mean, residue and squared deviation in one read;
    // mode 2: Σdy and Σdy·(x − μ).
    private void ReducePart(int part, int s, int cnt)
    {
        double[] p1 = _p1[part], p2 = _p2[part];
        float[] f1 = _f1[part], f2 = _f2[part];
        Array.Clear(p1); Array.Clear(p2);
        int row = _c * _inner, r1 = (s + cnt) * _pre;
        for (int r = s * _pre; r < r1; r += _chunkRows)
        {
            int k = Math.Min(_chunkRows, r1 - r);
            var xs = _x!.Span.Slice(r * row, k * row);
            Array.Clear(f1); Array.Clear(f2);
            switch (_mode)
            {
                case 0:
                {
                    // chunk mean, residue e = Σ(x − mean), q = Σ(x − mean)²  ⇒  Σ(x − s) = n·dm + e, Σ(x − s)² = q + 2·dm·e + n·dm², dm = mean − s
                    float[] f3 = _f3[part];
                    BatchNorm.ChannelMoments(k, _c, _inner, xs, f1, f3, f2);
                    double nk = (double)k * _inner;
                    for (int c = 0; c < _c; c++)
                    {
                        double dm = f1[c] - (double)_shiftX[c];
                        p1[c] += nk * dm + f3[c];
                        p2[c] += f2[c] + 2 * dm * f3[c] + nk * dm * dm;
                    }
                    continue;
                }
                default: BatchNorm.BackwardSums(k, _c, _inner, xs, _dy!.Span.Slice(r * row, k * row), _mean, f1, f2); break;
            }
            for (int c = 0; c < _c; c++) { p1[c] += f1[c]; p2[c] += f2[c]; }
        }
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        int n = dy.Shape[0];
        long m = (long)n * _pre * _inner;
        _dy = dy;
        EnsureParts(Parts(n));
        _mode = 2;
        ForBatch(n, _reducePart);
        var dgamma = Scale ? Gamma!.Grad.Span : default;
        var dbeta = Center ? Beta!.Grad.Span : default;
        var gamma = Scale ? Gamma!.Value.Span : default;
        for (int c = 0; c < _c; c++)
        {
            double s1 = 0, s2 = 0;
            for (int p = 0; p < Parts(n); p++) { s1 += _p1[p][c]; s2 += _p2[p][c]; }
            float inv = _inv[c];
            if (Scale) dgamma[c] += (float)(s2 * inv);   // Σ dy·x̂
            if (Center) dbeta[c] += (float)s1;
            float a = (Scale ? gamma[c] : 1f) * inv;
            _a[c] = a;
            if (_batchStats)
            {
                // dx = a·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), x̂ = (x − μ)·inv  ⇒  dx = a·dy + b·x + d
                _b[c] = (float)(-a * inv * inv * s2 / m);
                _d[c] = (float)(-a * s1 / m) - _b[c] * _mean[c];
            }
            else { _b[c] = 0f; _d[c] = 0f; }
        }
        if (!NeedsInputGradient) return dy;
        _dx = Workspace(ref _dx, n, InputShape!);
        ForBatch(n, _backwardDataPart);
        return _dx;
    }

    private void BackwardDataPart(int part, int s, int cnt)
    {
        int img = _pre * _c * _inner;
        BatchNorm.BackwardData(cnt * _pre, _c, _inner, _x!.Span.Slice(s * img, cnt * img), _dy!.Span.Slice(s * img, cnt * img), _a, _b, _d,
            _dx!.Span.Slice(s * img, cnt * img));
    }

    private void EnsureParts(int parts)
    {
        if (_p1.Length >= parts) return;
        _p1 = new double[parts][]; _p2 = new double[parts][]; _f1 = new float[parts][]; _f2 = new float[parts][]; _f3 = new float[parts][];
        for (int p = 0; p < parts; p++) { _p1[p] = new double[_c]; _p2[p] = new double[_c]; _f1[p] = new float[_c]; _f2[p] = new float[_c]; _f3[p] = new float[_c]; }
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["axis"] = Axis.ToString(CultureInfo.InvariantCulture);
        c["momentum"] = Momentum.ToString("R", CultureInfo.InvariantCulture);
        c["epsilon"] = Epsilon.ToString("R", CultureInfo.InvariantCulture);
        c["center"] = Center ? "true" : "false";
        c["scale"] = Scale ? "true" : "false";
    }
}
