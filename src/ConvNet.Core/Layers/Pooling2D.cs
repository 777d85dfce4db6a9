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
        return [oh, ow, s[2]];
    }

    private protected ConvGeometry Geometry(int n) => ConvGeometry.Create(n, InputShape![0], InputShape[1], InputShape[2],
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
    private Tensor? _y, _dx;
    private int[] _argmax = [];

    /// <summary>Square window; <paramref name="strides"/> null → the pool size.</summary>
    public MaxPooling2D(int poolSize = 2, int? strides = null, Padding padding = Padding.Valid, string? name = null)
        : base((poolSize, poolSize), strides is int s ? (s, s) : null, padding, name) { }

    /// <summary>(height, width) window and strides.</summary>
    public MaxPooling2D((int Height, int Width) poolSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid, string? name = null)
        : base(poolSize, strides, padding, name) { }

    /// <inheritdoc/>
    public override string TypeName => "MaxPooling2D";

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        var g = Geometry(n);
        var y = Workspace(ref _y, BatchShape(n, OutputShape!));
        if (_argmax.Length != y.Length) _argmax = new int[y.Length];
        var arg = _argmax;
        ForBatch(n, (s, cnt) =>
        {
            Pool.MaxPoolForward(g.WithBatch(cnt), x.Span.Slice(s * g.InImage, cnt * g.InImage), y.Span.Slice(s * g.OutImage, cnt * g.OutImage),
                arg.AsSpan(s * g.OutImage, cnt * g.OutImage));
        });
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        int n = dy.Shape[0];
        var g = Geometry(n);
        var dx = Workspace(ref _dx, BatchShape(n, InputShape!));
        ForBatch(n, (s, cnt) =>
        {
            var dxc = dx.Span.Slice(s * g.InImage, cnt * g.InImage);
            dxc.Clear();
            // argmax holds indices relative to the chunk's first image
            Pool.MaxPoolBackward(g.WithBatch(cnt), dy.Span.Slice(s * g.OutImage, cnt * g.OutImage), _argmax.AsSpan(s * g.OutImage, cnt * g.OutImage), dxc);
        });
        return dx;
    }
}

/// <summary>Average pooling like Keras <c>AveragePooling2D</c>; with Same padding only real pixels are averaged (TF semantics).</summary>
public sealed class AveragePooling2D : Pooling2D
{
    private Tensor? _y, _dx;

    /// <summary>Square window; <paramref name="strides"/> null → the pool size.</summary>
    public AveragePooling2D(int poolSize = 2, int? strides = null, Padding padding = Padding.Valid, string? name = null)
        : base((poolSize, poolSize), strides is int s ? (s, s) : null, padding, name) { }

    /// <summary>(height, width) window and strides.</summary>
    public AveragePooling2D((int Height, int Width) poolSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid, string? name = null)
        : base(poolSize, strides, padding, name) { }

    /// <inheritdoc/>
    public override string TypeName => "AveragePooling2D";

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        var g = Geometry(n);
        var y = Workspace(ref _y, BatchShape(n, OutputShape!));
        ForBatch(n, (s, cnt) => Pool.AvgPoolForward(g.WithBatch(cnt), x.Span.Slice(s * g.InImage, cnt * g.InImage), y.Span.Slice(s * g.OutImage, cnt * g.OutImage)));
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        int n = dy.Shape[0];
        var g = Geometry(n);
        var dx = Workspace(ref _dx, BatchShape(n, InputShape!));
        ForBatch(n, (s, cnt) =>
        {
            var dxc = dx.Span.Slice(s * g.InImage, cnt * g.InImage);
            dxc.Clear();
            Pool.AvgPoolBackward(g.WithBatch(cnt), dy.Span.Slice(s * g.OutImage, cnt * g.OutImage), dxc);
        });
        return dx;
    }
}
