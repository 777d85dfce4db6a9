namespace ConvNet;

/// <summary>An immutable tensor shape of rank 1–4. Images are NHWC: (batch, height, width, channels).</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int _d0, _d1, _d2, _d3;

    /// <summary>Number of dimensions (1–4).</summary>
    public int Rank { get; }

    /// <summary>Creates a shape from 1–4 positive dimensions.</summary>
    /// <exception cref="ArgumentException">The rank is not 1–4 or a dimension is not positive.</exception>
    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length is < 1 or > 4)
            throw new ArgumentException($"A shape has rank 1 to 4, got rank {dims.Length} ({Format(dims)}).", nameof(dims));
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] <= 0)
                throw new ArgumentException($"Shape dimensions must be positive, got {Format(dims)} (dimension {i} is {dims[i]}).", nameof(dims));
        long n = 1;
        foreach (int d in dims) n *= d;
        if (n > int.MaxValue)
            throw new ArgumentException($"Shape {Format(dims)} has {n} elements; at most {int.MaxValue} are supported.", nameof(dims));
        Rank = dims.Length;
        _d0 = dims[0];
        _d1 = dims.Length > 1 ? dims[1] : 1;
        _d2 = dims.Length > 2 ? dims[2] : 1;
        _d3 = dims.Length > 3 ? dims[3] : 1;
    }

    /// <summary>The size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis]
    {
        get
        {
            int a = axis < 0 ? axis + Rank : axis;
            if ((uint)a >= (uint)Rank)
                throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this} of rank {Rank}.");
            return a switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => _d3 };
        }
    }

    /// <summary>Total number of elements.</summary>
    public int Size => _d0 * _d1 * _d2 * _d3;

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = this[i];
        return a;
    }

    /// <summary>The same shape with the first (batch) dimension replaced.</summary>
    public Shape WithBatch(int batch)
    {
        var d = ToArray();
        d[0] = batch;
        return new Shape(d);
    }

    /// <summary>The dimensions after the first (a per-sample shape).</summary>
    public int[] SampleDims() => ToArray()[1..];

    /// <inheritdoc/>
    public bool Equals(Shape other) => Rank == other.Rank && _d0 == other._d0 && _d1 == other._d1 && _d2 == other._d2 && _d3 == other._d3;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rank, _d0, _d1, _d2, _d3);
    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>Formats as <c>(2, 80, 80, 1)</c>.</summary>
    public override string ToString() => Format(ToArray());

    internal static string Format(ReadOnlySpan<int> dims)
    {
        if (dims.Length == 1) return $"({dims[0]},)";
        return "(" + string.Join(", ", dims.ToArray()) + ")";
    }
}
