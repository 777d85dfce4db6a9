using System.Buffers.Binary;
using Xunit;

namespace ConvNet.Data.Tests;

public class IdxTests
{
    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Theory]
    [InlineData("imgs-idx3-ubyte")]
    [InlineData("imgs-idx3-ubyte.gz")]
    public void Images_round_trip(string name)
    {
        using var dir = new TempDir();
        var pixels = RandomBytes(3 * 28 * 28, 1);
        string path = dir.Combine(name);
        Idx.WriteImages(path, pixels, 3, 28, 28);
        var t = Idx.ReadImages(path);
        Assert.Equal(new Shape(3, 28, 28, 1), t.Shape);
        Assert.Equal(pixels.Select(p => (float)p), t.ToArray());
        Assert.Equal(pixels[28 * 28 + 5 * 28 + 7], t[1, 5, 7, 0]);
    }

    [Theory]
    [InlineData("labels-idx1-ubyte")]
    [InlineData("labels-idx1-ubyte.gz")]
    public void Labels_round_trip(string name)
    {
        using var dir = new TempDir();
        byte[] labels = [0, 9, 3, 3, 7];
        Idx.WriteLabels(dir.Combine(name), labels);
        Assert.Equal(labels.Select(l => (int)l), Idx.ReadLabels(dir.Combine(name)));
    }

    [Fact]
    public void Gzip_is_detected_by_magic_not_name()
    {
        using var dir = new TempDir();
        Idx.WriteLabels(dir.Combine("l.gz"), [1, 2]);
        File.Move(dir.Combine("l.gz"), dir.Combine("plain-name"));
        Assert.Equal([1, 2], Idx.ReadLabels(dir.Combine("plain-name")));
    }

    [Fact]
    public void Wrong_magic_names_the_file_and_both_numbers()
    {
        using var dir = new TempDir();
        string path = dir.Combine("train-labels-idx1-ubyte");
        Idx.WriteLabels(path, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("expected 0x00000803", e.Message);
    }

    [Fact]
    public void Raw_size_mismatch_is_reported_before_allocating()
    {
        using var dir = new TempDir();
        string path = dir.Combine("imgs");
        Idx.WriteImages(path, RandomBytes(2 * 4 * 4, 2), 2, 4, 4);
        var bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..^1]);
        var truncated = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.Contains("truncated", truncated.Message);
        Assert.Contains("48", truncated.Message); // expected 16 + 32 bytes
        Assert.Contains(path, truncated.Message);

        File.WriteAllBytes(path, [.. bytes, 0]);
        Assert.Contains("trailing", Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path)).Message);

        // a header claiming 2^31−1 images of 28×28 in a 16-byte file fails on the size check, not on allocation
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, Idx.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1_000_000);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
        File.WriteAllBytes(path, header);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
    }

    [Fact]
    public void Truncated_gzip_is_reported()
    {
        using var dir = new TempDir();
        string path = dir.Combine("imgs.gz");
        Idx.WriteImages(path, RandomBytes(50 * 28 * 28, 3), 50, 28, 28);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Gzip_with_a_huge_declared_count_is_refused()
    {
        using var dir = new TempDir();
        string path = dir.Combine("huge.gz");
        using (var f = File.Create(path))
        using (var gz = new System.IO.Compression.GZipStream(f, System.IO.Compression.CompressionLevel.Fastest))
        {
            var header = new byte[16];
            BinaryPrimitives.WriteInt32BigEndian(header, Idx.ImagesMagic);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 2_000_000);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
            gz.Write(header);
        }
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Zero_dimensions_are_rejected()
    {
        using var dir = new TempDir();
        string path = dir.Combine("zero");
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, Idx.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1);
        File.WriteAllBytes(path, header);
        Assert.Contains("rows = 0", Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path)).Message);
    }

    [Theory]
    [InlineData("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    [InlineData("train-images.idx3-ubyte", "train-labels.idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels.idx1-ubyte")]
    public void Mnist_folder_loads_both_namings(string trainImages, string trainLabels, string testImages, string testLabels)
    {
        using var dir = new TempDir();
        var px = RandomBytes(4 * 28 * 28, 5);
        Idx.WriteImages(dir.Combine(trainImages), px, 4, 28, 28);
        Idx.WriteLabels(dir.Combine(trainLabels), [5, 0, 4, 1]);
        Idx.WriteImages(dir.Combine(testImages), px[..(2 * 28 * 28)], 2, 28, 28);
        Idx.WriteLabels(dir.Combine(testLabels), [7, 2]);

        var (train, test) = Mnist.LoadFolder(dir.Path);
        Assert.Equal(new Shape(4, 28, 28, 1), train.X.Shape);
        Assert.Equal([5, 0, 4, 1], train.Y);
        Assert.Equal(new Shape(2, 28, 28, 1), test.X.Shape);
        Assert.Equal([7, 2], test.Y);
        Assert.Equal(10, train.ClassNames.Count);
    }

    [Fact]
    public void Mnist_missing_file_and_count_mismatch_are_explained()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<FileNotFoundException>(() => Mnist.LoadFolder(dir.Path));
        Assert.Contains("train-images-idx3-ubyte.gz", missing.Message);

        Idx.WriteImages(dir.Combine("i"), new byte[3 * 4], 3, 2, 2);
        Idx.WriteLabels(dir.Combine("l"), [1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(dir.Combine("i"), dir.Combine("l")));
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }
}
