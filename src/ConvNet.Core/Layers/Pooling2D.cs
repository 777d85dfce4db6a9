using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Shared geometry of <see cref="MaxPooling2D"/> and <see cref="AveragePooling2D"/>: per-channel windows over NHWC input.</summary>
public abstract class Pooling2D : Layer
{
    private protected Pooling2D((int, int) poolSize, (int, int)? strides, Padding padding, string? name) : base(name)
    {
        if (poolSize.Item1 <= 0 || poolSize.Item2 <= 0) throw new ArgumentOutOfRangeException(nameof(poolSize), $"{GetType().Name}: pool size must be positive, got {poolSize}.");
        var s = strides ?? poolSize;
        if (s.Item1 <= 0 || s.Item2 <= 0) throw new ArgumentOutOfRangeException(nameof(strides), $"{GetType().Name}: strides must be positive, got {s}.");
        PoolSize = poolSize; Strides = s; Padding = padding;
    }

    /// <summary>Window (height, width).</summary>
    public (int Height, int Width) PoolSize { get; }
    /// <summary>Strides (vertical, horizontal); defaults to the pool size.</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Valid or Same.</summary>
    public Padding Padding { get; }

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3)
            throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"{TypeName} needs rank-4 NHWC input, got rank {s.Count + 1}");
        var (oh, _) = ConvGeometry.Axis(s[0], PoolSize.Height, Strides.Height, Padding);
        var (ow, _) = ConvGeometry.Axis(s[1], PoolSize.Width, Strides.Width, Padding);
        if (oh <= 0 || ow <= 0)
            throw Error($"(None, ≥{PoolSize.Height}, ≥{PoolSize.Width}, {s[2]})", Fmt(s, batch: true),
                $"the {PoolSize.Height}×{PoolSize.Width} pool window is larger than the {s[0]}×{s[1]} input with Valid padding");
        ShapeChecks.RequireFits(this, s, "input", s);
        return [oh, ow, s[2]];
    }

    internal ConvGeometry Geometry(int n) => ConvGeometry.Create(n, InputShape![0], InputShape[1], InputShape[2],
        PoolSize.Height, PoolSize.Width, Strides.Height, Strides.Width, Padding, InputShape[2]);

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["pool_size"] = $"{PoolSize.Height},{PoolSize.Width}";
        c["strides"] = $"{Strides.Height},{Strides.Width}";
        c["padding"] = Padding == Padding.Same ? "same" : "valid";
    }

    internal static string Pair((int, int) p) => string.Create(CultureInfo.InvariantCulture, $"{p.Item1},{p.Item2}");
}

/// <summary>Max pooling like Keras <c>MaxPooling2D</c>; ties pick the first maximum in row-major window order.</summary>
public sealed class MaxPooling2D : Pooling2D
{
    private Tensor? _x, _y, _yOwn, _dy, _dx;
    private int[] _argmax = [];
    private ConvGeometry _g;
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

    /// <summary>Square window; <paramref name="strides"/> null → the pool size.</summary>
    public MaxPooling2D(int poolSize = 2, int? strides = null, Padding padding = Padding.Valid, string? name = null)
        : this((poolSize, poolSize), strides is int s ? (s, s) : null, padding, name) { }

    /// <summary>(height, width) window and strides.</summary>
    public MaxPooling2D((int Height, int Width) poolSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid, string? name = null)
        : base(poolSize, strides, padding, name)
    {
        _forwardPart = ForwardPart;
        _backwardPart = BackwardPart;
    }

    /// <inheritdoc/>
    public override string TypeName => "MaxPooling2D";

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _g = Geometry(n);
        _x = x;
        _y = OutputBuffer(ref _yOwn, n);
        if (_argmax.Length != _y.Length) _argmax = new int[_y.Length];
        ForBatch(n, _forwardPart);
        return _y;
    }

    // argmax holds indices relative to the part's first image.
    private void ForwardPart(int part, int s, int cnt) =>
        Pool.MaxPoolForward(_g.WithBatch(cnt), _x!.Span.Slice(s * _g.InImage, cnt * _g.InImage), _y!.Span.Slice(s * _g.OutImage, cnt * _g.OutImage),
            _argmax.AsSpan(s * _g.OutImage, cnt * _g.OutImage));

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        int n = dy.Shape[0];
        _g = Geometry(n);
        _dy = dy;
        _dx = Workspace(ref _dx, n, InputShape!);
        ForBatch(n, _backwardPart);
        return _dx;
    }

    private void BackwardPart(int part, int s, int cnt)
    {
        var dxc = _dx!.Span.Slice(s * _g.InImage, cnt * _g.InImage);
        var gc = _g.WithBatch(cnt);
        var dyc = _dy!.Span.Slice(s * _g.OutImage, cnt * _g.OutImage);
        var argc = _argmax.AsSpan(s * _g.OutImage, cnt * _g.OutImage);
        if (Overwrite.SupportsMaxPool(gc)) { Overwrite.MaxPoolBackward(gc, dyc, argc, dxc); return; }   // writes all of dx: no clear
        dxc.Clear();
        Pool.MaxPoolBackward(gc, dyc, argc, dxc);
    }
}

/// <summary>Average pooling like Keras <c>AveragePooling2D</c>; with Same padding only real pixels are averaged (TF semantics).</summary>
public sealed class AveragePooling2D : Pooling2D
{
    private Tensor? _x, _y, _yOwn, _dy, _dx;
    private ConvGeometry _g;
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

    /// <summary>Square window; <paramref name="strides"/> null → the pool size.</summary>
    public AveragePooling2D(int poolSize = 2, int? strides = null, Padding padding = Padding.Valid, string? name = null)
        : this((poolSize, poolSize), strides is int s ? (s, s) : null, padding, name) { }

    /// <summary>(height, width) window and strides.</summary>
    public AveragePooling2D((int Height, int Width) poolSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid, string? name = null)
        : base(poolSize, strides, padding, name)
    {
        _forwardPart = (p, s, cnt) => Pool.AvgPoolForward(_g.WithBatch(cnt), _x!.Span.Slice(s * _g.InImage, cnt * _g.InImage), _y!.Span.Slice(s * _g.OutImage, cnt * _g.OutImage));
        _backwardPart = (p, s, cnt) =>
        {
            var dxc = _dx!.Span.Slice(s * _g.InImage, cnt * _g.InImage);
            dxc.Clear();
            Pool.AvgPoolBackward(_g.WithBatch(cnt), _dy!.Span.Slice(s * _g.OutImage, cnt * _g.OutImage), dxc);
        };
    }

    /// <inheritdoc/>
    public override string TypeName => "AveragePooling2D";

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _g = Geometry(n);
        _x = x;
        _y = OutputBuffer(ref _yOwn, n);
        ForBatch(n, _forwardPart);
        return _y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        int n = dy.Shape[0];
        _g = Geometry(n);
        _dy = dy;
        _dx = Workspace(ref _dx, n, InputShape!);
        ForBatch(n, _backwardPart);
        return _dx;
    }
}
