using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Tensor and Shape basics: views, formatting, indexing and their error messages.</summary>
public class TensorTests
{
    private static Tensor Iota(params int[] dims)
    {
        var t = new Tensor(dims);
        for (int i = 0; i < t.Length; i++) t.Span[i] = i + 1;
        return t;
    }

    [Fact]
    public void ShapeBasics()
    {
        var s = new Shape(2, 80, 80, 1);
        Assert.Equal(4, s.Rank);
        Assert.Equal(12_800, s.Size);
        Assert.Equal(1, s[-1]);
        Assert.Equal(2, s[0]);
        Assert.Equal("(2, 80, 80, 1)", s.ToString());
        Assert.Equal("(7,)", new Shape(7).ToString());
        Assert.Equal([80, 80, 1], s.SampleDims());
        Assert.Equal(new Shape(5, 80, 80, 1), s.WithBatch(5));
        Assert.True(new Shape(2, 3) == new Shape(2, 3));
        Assert.True(new Shape(2, 3) != new Shape(3, 2));
        Assert.True(new Shape(6) != new Shape(6, 1));          // rank matters
        Assert.Equal(new Shape(2, 3).GetHashCode(), new Shape(2, 3).GetHashCode());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => s[4]);
        Assert.Contains("Axis 4", ex.Message);
        Assert.Contains("(2, 80, 80, 1)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s[-5]);
        Assert.Contains("at most", Assert.Throws<ArgumentException>(() => new Shape(100_000, 100_000)).Message);
    }

    [Fact]
    public void ReshapeIsAView()
    {
        var t = Iota(2, 3);
        var r = t.Reshape(3, 2);
        Assert.Equal([3, 2], r.Shape.ToArray());
        Assert.Same(t.Array, r.Array);
        r[2, 1] = 100f;
        Assert.Equal(100f, t[1, 2]);
        t[0, 0] = -1f;
        Assert.Equal(-1f, r.Span[0]);
        Assert.Equal(t.ToArray(), t.Reshape(6).ToArray());
    }

    [Fact]
    public void BadReshapeSaysWhy()
    {
        var t = new Tensor(2, 3);
        var ex = Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("6 elements", ex.Message);
        Assert.Contains("(4, 2)", ex.Message);
        Assert.Contains("8 elements", ex.Message);
        Assert.Throws<ArgumentException>(() => t.Reshape(6, 0));
    }

    [Fact]
    public void ToStringShowsShapeAndValues()
    {
        Assert.Equal("Tensor(2, 3) [1, 2, 3, 4, 5, 6]", Iota(2, 3).ToString());
        Assert.Equal("Tensor(2,) [0.5, -1.25]", new Tensor([0.5f, -1.25f], 2).ToString());
        var big = Iota(2, 10);
        Assert.Equal("Tensor(2, 10) [1, 2, 3, 4, 5, 6, 7, 8, … (20 values)]", big.ToString());
    }

    [Fact]
    public void IndexerChecksBoundsWithAClearMessage()
    {
        var t = Iota(2, 3, 4, 5);
        Assert.Equal(1f + ((1 * 3 + 2) * 4 + 3) * 5 + 4, t[1, 2, 3, 4]);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => t[1, 3, 0, 0]);
        Assert.Contains("Index 3", ex.Message);
        Assert.Contains("dimension 1", ex.Message);
        Assert.Contains("size 3", ex.Message);
        Assert.Contains("(2, 3, 4, 5)", ex.Message);
        Assert.Throws<IndexOutOfRangeException>(() => t[-1, 0, 0, 0]);
        var rank = Assert.Throws<ArgumentException>(() => t[1, 2]);
        Assert.Contains("needs 4 indices, got 2", rank.Message);
    }

    [Fact]
    public void WrapChecksTheArrayLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tensor(new float[5], 2, 3));
        Assert.Contains("6 elements", ex.Message);
        Assert.Contains("5", ex.Message);
        Assert.Throws<ArgumentException>(() => new Tensor(new float[10], 6, new Shape(2, 3)));   // runs past the end
        Assert.Throws<ArgumentException>(() => new Tensor(new float[10], -1, new Shape(2)));
        var wrapped = new Tensor(new float[10], 4, new Shape(2, 3));
        Assert.Equal(4, wrapped.Offset);
        Assert.Equal(6, wrapped.Span.Length);
    }

    [Fact]
    public void SliceIsAViewOfSamples()
    {
        var t = Iota(4, 2, 3);
        var s = t.Slice(1, 2);
        Assert.Equal([2, 2, 3], s.Shape.ToArray());
        Assert.Equal(Enumerable.Range(7, 12).Select(i => (float)i), s.ToArray());
        s[0, 0, 0] = -7f;
        Assert.Equal(-7f, t[1, 0, 0]);
        // a slice of a slice and a reshape of a slice stay views at the right offset
        var ss = s.Slice(1, 1);
        Assert.Equal(13f, ss.Span[0]);
        Assert.Equal(13f, ss.Reshape(6)[0]);
        Assert.Equal(t.ToArray()[18..], t.Slice(3, 1).ToArray());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(3, 2));
        Assert.Contains("[3, 5)", ex.Message);
        Assert.Contains("(4, 2, 3)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(0, 0));
    }

    // Regression: Slice(0, count < N) of a tensor that owns its array used to throw, because the offset
    // constructor demanded data.Length == shape.Size whenever offset == 0 (fixed in 07de581).
    [Fact]
    public void SliceFromTheFirstSample()
    {
        var t = Iota(4, 2, 3);
        var s = t.Slice(0, 2);
        Assert.Equal([2, 2, 3], s.Shape.ToArray());
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (float)i), s.ToArray());
        s[1, 1, 2] = 0f;
        Assert.Equal(0f, t[1, 1, 2]);
        Assert.Equal(t.ToArray(), t.Slice(0, 4).ToArray());
    }

    [Fact]
    public void GatherCopiesSamples()
    {
        var t = Iota(3, 2, 2);
        var g = t.Gather([2, 0, 2]);
        Assert.Equal([3, 2, 2], g.Shape.ToArray());
        Assert.Equal([9f, 10, 11, 12, 1, 2, 3, 4, 9, 10, 11, 12], g.ToArray());
        Assert.NotSame(t.Array, g.Array);
        g[0, 0, 0] = 99f;
        Assert.Equal(9f, t[2, 0, 0]);
        var one = t.Gather([1]);                                   // dataset.X.Gather([i]): a batch of one
        Assert.Equal([1, 2, 2], one.Shape.ToArray());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => t.Gather([0, 3]));
        Assert.Contains("Sample index 3", ex.Message);
        Assert.Contains("3 samples", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Gather([-1]));
    }

    [Fact]
    public void CloneAndToArrayCopy()
    {
        var t = Iota(2, 2);
        var c = t.Clone();
        c[0, 0] = 50f;
        Assert.Equal(1f, t[0, 0]);
        var a = t.ToArray();
        a[1] = 50f;
        Assert.Equal(2f, t[0, 1]);
    }
}
