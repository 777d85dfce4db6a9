using System.Globalization;
using System.Text;

namespace ConvNet;

/// <summary>
/// A contiguous float32 tensor of rank 1–4 that owns or wraps a <see cref="float"/> array.
/// Images are NHWC (batch, height, width, channels), like Keras.
/// </summary>
public sealed class Tensor
{
    private readonly float[] _data;
    private readonly int _offset;

    /// <summary>The shape.</summary>
    public Shape Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Shape.Size;

    /// <summary>Allocates a zero-filled tensor.</summary>
    public Tensor(params int[] dims) : this(new Shape(dims)) { }

    /// <summary>Allocates a zero-filled tensor.</summary>
    public Tensor(Shape shape)
    {
        Shape = shape;
        _data = new float[shape.Size];
    }

    /// <summary>Wraps <paramref name="data"/> (no copy). Its length must equal the shape's size.</summary>
    public Tensor(float[] data, params int[] dims) : this(data, 0, new Shape(dims))
    {
        if (data.Length != Shape.Size)
            throw new ArgumentException($"Shape {Shape} has {Shape.Size} elements, but the array has {data.Length}.", nameof(data));
    }

    /// <summary>Wraps <paramref name="data"/> from <paramref name="offset"/> (no copy); the array may be longer than the shape.</summary>
    public Tensor(float[] data, int offset, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (offset < 0 || (long)offset + shape.Size > data.Length)
            throw new ArgumentException($"Shape {shape} needs {shape.Size} elements from offset {offset}, but the array has {data.Length}.", nameof(data));
        _data = data;
        _offset = offset;
        Shape = shape;
    }

    /// <summary>The elements, row-major.</summary>
    public Span<float> Span => _data.AsSpan(_offset, Shape.Size);

    /// <summary>The underlying array (shared, not copied).</summary>
    public float[] Array => _data;

    /// <summary>The offset of the first element in <see cref="Array"/>.</summary>
    public int Offset => _offset;

    /// <summary>Element at a multi-index (one index per dimension).</summary>
    public float this[params int[] index]
    {
        get => _data[_offset + FlatIndex(index)];
        set => _data[_offset + FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Shape.Rank)
            throw new ArgumentException($"Tensor of shape {Shape} needs {Shape.Rank} indices, got {index.Length}.");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            int d = Shape[i];
            if ((uint)index[i] >= (uint)d)
                throw new IndexOutOfRangeException($"Index {index[i]} is out of range for dimension {i} (size {d}) of tensor shape {Shape}.");
            flat = flat * d + index[i];
        }
        return flat;
    }

    /// <summary>A view with another shape of the same size (no copy).</summary>
    public Tensor Reshape(params int[] dims)
    {
        var s = new Shape(dims);
        if (s.Size != Shape.Size)
            throw new ArgumentException($"Cannot reshape {Shape} ({Shape.Size} elements) to {s} ({s.Size} elements).");
        return new Tensor(_data, _offset, s);
    }

    /// <summary>A view of samples <c>[start, start+count)</c> along the first axis (no copy).</summary>
    public Tensor Slice(int start, int count)
    {
        int n = Shape[0];
        if (start < 0 || count <= 0 || start + count > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + count}) is outside the first axis of {Shape}.");
        int per = Shape.Size / n;
        return new Tensor(_data, _offset + start * per, Shape.WithBatch(count));
    }

    /// <summary>A copy of the samples at <paramref name="indices"/> (like NumPy's <c>x[[17]]</c>).</summary>
    public Tensor Gather(ReadOnlySpan<int> indices)
    {
        int n = Shape[0], per = Shape.Size / n;
        var t = new Tensor(Shape.WithBatch(indices.Length));
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Sample index {indices[i]} is out of range for {n} samples in tensor {Shape}.");
            Span.Slice(indices[i] * per, per).CopyTo(t.Span.Slice(i * per, per));
        }
        return t;
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone()
    {
        var t = new Tensor(Shape);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>The elements as a new array.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>Shape and the first few values, e.g. <c>Tensor(2, 3) [1, 2, 3, 4, 5, 6]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("Tensor").Append(Shape).Append(" [");
        var s = Span;
        int show = Math.Min(s.Length, 8);
        for (int i = 0; i < show; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(s[i].ToString("G6", CultureInfo.InvariantCulture));
        }
        if (s.Length > show) sb.Append(", … (").Append(s.Length).Append(" values)");
        return sb.Append(']').ToString();
    }
}
