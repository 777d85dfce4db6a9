using System.Buffers.Binary;
using System.IO.Compression;
using ConvNet.Data;
using ConvNet.IO;
using Xunit;

namespace ConvNet.Reliability.Tests;

/// <summary>Issue 16's library cases, in-process; each runs with a deadline so a hang fails.</summary>
public sealed class LibraryCases : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ImageLoadOptions Small(BadFilePolicy bad = BadFilePolicy.Error) =>
        new() { ImageSize = (16, 16), ColorMode = ColorMode.Grayscale, BadFiles = bad };

    // ---- 1. FIFOs: only regular files are opened -------------------------------------------------------------

    [LinuxFact]
    public void Item01_LoadImage_refuses_a_fifo_at_once_naming_it()
    {
        string fifo = Make.Fifo(_dir["pipe.png"]);
        var e = Deadline.Throws<IOException>(() => ImageDatasets.LoadImage(fifo, Small()), TimeSpan.FromSeconds(5));
        Assert.Contains("named pipe (FIFO)", e.Message);
        Assert.Contains(fifo, e.Message);
    }

    [LinuxFact]
    public void Item01_a_fifo_in_a_class_folder_is_a_bad_file_not_a_hang()
    {
        Make.ClassFolders(_dir["data"], 2, "a", "b");
        string fifo = Make.Fifo(_dir["data/a/zz-pipe.png"]);
        var e = Deadline.Throws<ImageLoadException>(() => ImageDatasets.LoadDirectory(_dir["data"], Small()), TimeSpan.FromSeconds(5));
        Assert.Contains("named pipe", e.Message);
        Assert.Contains("zz-pipe.png", e.Message);

        var skipped = Deadline.Within(() => ImageDatasets.LoadDirectory(_dir["data"], Small(BadFilePolicy.Skip)), TimeSpan.FromSeconds(5));
        Assert.Equal(4, skipped.Count);
        Assert.Contains(skipped.Report.Skipped, s => s.Kind == SkipKind.Bad && s.Path.EndsWith("zz-pipe.png", StringComparison.Ordinal));
        _ = fifo;
    }

    [LinuxFact]
    public void Item01_Idx_ReadLabels_and_ReadImages_refuse_a_fifo()
    {
        string fifo = Make.Fifo(_dir["train-labels-idx1-ubyte"]);
        var e = Deadline.Throws<IOException>(() => Idx.ReadLabels(fifo), TimeSpan.FromSeconds(5));
        Assert.Contains("named pipe", e.Message);
        Assert.Contains(fifo, e.Message);
        Deadline.Throws<IOException>(() => Idx.ReadImages(fifo), TimeSpan.FromSeconds(5));
    }

    [LinuxFact]
    public void Item01_SafeFile_refuses_a_fifo_for_model_files_too()
    {
        // ModelFile.Load/Save are wired to SafeFile by the model-file redesign; the helper itself is tested here.
        string fifo = Make.Fifo(_dir["model.cnet"]);
        var e = Deadline.Throws<IOException>(() => SafeFile.OpenRead(fifo, "Model file"), TimeSpan.FromSeconds(5));
        Assert.Equal($"Model file \"{fifo}\" is a named pipe (FIFO), not a regular file; only regular files are read.", e.Message);
        Assert.Throws<IOException>(() => SafeFile.EnsureWritableTarget(fifo, "Model file"));
    }

    [LinuxFact]
    public void Item01_Model_Load_refuses_a_fifo()
    {
        string fifo = Make.Fifo(_dir["pipe.cnet"]);
        var e = Deadline.Throws<IOException>(() => Model.Load(fifo), TimeSpan.FromSeconds(5));
        Assert.Contains("named pipe (FIFO)", e.Message);
        Assert.Contains(fifo, e.Message);
    }

    // ---- 2. /dev/zero and other devices: refused, and reads are capped ---------------------------------------

    [LinuxFact]
    public void Item02_dev_zero_and_a_link_to_it_are_refused_as_character_devices()
    {
        var e = Deadline.Throws<IOException>(() => ImageDatasets.LoadImage("/dev/zero", Small()), TimeSpan.FromSeconds(5));
        Assert.Contains("character device", e.Message);

        Make.ClassFolders(_dir["data"], 1, "a", "b");
        File.CreateSymbolicLink(_dir["data/a/zero.png"], "/dev/zero");
        var bad = Deadline.Throws<ImageLoadException>(() => ImageDatasets.LoadDirectory(_dir["data"], Small()), TimeSpan.FromSeconds(5));
        Assert.Contains("zero.png", bad.Message);
        Assert.Contains("character device", bad.Message);
    }

    [Fact]
    public void Item02_reads_of_a_stream_without_a_length_stop_at_the_cap()
    {
        using var endless = new EndlessStream();
        var e = Deadline.Throws<InvalidDataException>(() => SafeFile.ReadAtMost(endless, 1 << 20, "Image \"x\""), TimeSpan.FromSeconds(5));
        Assert.Contains("more than the limit of 1,048,576 bytes", e.Message);
        Assert.True(endless.BytesRead < 4 << 20, $"read {endless.BytesRead:N0} bytes for a 1 MiB cap");

        using var small = new MemoryStream(new byte[1000]);
        Assert.Equal(1000, SafeFile.ReadAtMost(small, 1000, "x").Length);
    }

    private sealed class EndlessStream : Stream
    {
        public long BytesRead;
        public override int Read(byte[] buffer, int offset, int count) { BytesRead += count; return count; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // ---- 3. IDX: the declared count is capped before allocating, float expansion counted ---------------------

    /// <summary>A gzip IDX images file whose header declares <paramref name="count"/> 28×28 images but holds only a few bytes.</summary>
    internal static string HugeDeclaredIdx(string path, int count)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, Idx.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(header);
        gz.Write(new byte[4096]);
        return path;
    }

    [Fact]
    public void Item03_a_gzip_idx_declaring_1369000_images_is_refused_before_allocating()
    {
        string path = HugeDeclaredIdx(_dir["train-images-idx3-ubyte.gz"], 1_369_000);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Deadline.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("1,369,000 images of 28×28", e.Message);
        Assert.Contains("4,293,184,000 bytes", e.Message);          // counted as float32
        Assert.Contains("IdxReadOptions.MaxBytes", e.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated:N0} bytes before refusing");
    }

    [Fact]
    public void Item03_the_idx_limit_is_configurable_and_counts_four_bytes_per_float()
    {
        string images = _dir["i.idx"], labels = _dir["l.idx"];
        Idx.WriteImages(images, new byte[10 * 28 * 28], 10, 28, 28);
        Idx.WriteLabels(labels, new byte[10]);
        var tight = new IdxReadOptions { MaxBytes = 10 * 28 * 28 * 4 - 1 };   // enough for the bytes, not for the floats
        Assert.Throws<InvalidDataException>(() => Idx.ReadImages(images, tight));
        Assert.Equal(10 * 28 * 28, Idx.ReadImageBytes(images, out _, out _, out _, tight).Length);
        Assert.Equal([10, 28, 28, 1], Idx.ReadImages(images, new IdxReadOptions { MaxBytes = 10 * 28 * 28 * 4 }).Shape.ToArray());
        Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(labels, new IdxReadOptions { MaxBytes = 49 }));
        Assert.Equal(10, Mnist.Load(images, labels, new IdxReadOptions { MaxBytes = 1 << 20 }).Count);
    }

    // ---- 4. Huge images: decoded row by row within a budget -------------------------------------------------

    [Fact]
    public void Item04_streamed_decode_and_resize_is_bit_identical_to_the_full_image_path()
    {
        string png = Make.Png(_dir["a.png"], 37, 23);
        byte[] bytes = File.ReadAllBytes(png);
        foreach (var mode in new[] { ColorMode.Grayscale, ColorMode.Rgb, ColorMode.Rgba })
        {
            int c = mode switch { ColorMode.Grayscale => 1, ColorMode.Rgb => 3, _ => 4 };
            foreach (var (h, w) in new[] { (16, 16), (23, 37), (50, 9) })
            {
                float[] decoded = ImageDecoder.Decode(bytes, mode, long.MaxValue, out int ih, out int iw);
                var full = new float[h * w * c];
                ImageResize.Bilinear(decoded, ih, iw, c, full, h, w);
                var options = new ImageLoadOptions { ImageSize = (h, w), ColorMode = mode };
                Assert.Equal(full, ImageDatasets.LoadImage(png, options).ToArray());
            }
        }
    }

    [Fact]
    public void Item04_pixel_limit_and_decode_budget_are_documented_knobs()
    {
        var o = new ImageLoadOptions();
        Assert.Equal(50_000_000, o.MaxPixels);
        Assert.Equal(256L << 20, o.MaxDecodeBytes);
        Assert.Throws<ArgumentException>(() => ImageDatasets.LoadDirectory(_dir.Path, new ImageLoadOptions { MaxDecodeBytes = 0 }));
        Make.ClassFolders(_dir["data"], 2, "a", "b");
        var tiny = new ImageLoadOptions { ImageSize = (8, 8), ColorMode = ColorMode.Grayscale, MaxDecodeBytes = 1, MaxDegreeOfParallelism = 4 };
        Assert.Equal(4, Deadline.Within(() => ImageDatasets.LoadDirectory(_dir["data"], tiny)).Count);   // one at a time, no deadlock
    }

    // ---- 7. Directory symlinks are not followed by default; loops never repeat files ------------------------

    [LinuxFact]
    public void Item07_a_symlink_loop_is_not_followed_and_is_reported()
    {
        Make.ClassFolders(_dir["data"], 1, "a", "b");
        Directory.CreateSymbolicLink(_dir["data/a/loop"], _dir["data"]);
        Directory.CreateSymbolicLink(_dir["data/b/self"], _dir["data/b"]);
        var ds = Deadline.Within(() => ImageDatasets.LoadDirectory(_dir["data"], Small()));
        Assert.Equal(2, ds.Count);
        Assert.Equal(2, ds.Report.Skipped.Count(s => s.Kind == SkipKind.Link));
        Assert.Contains("FollowLinks", ds.Report.Skipped.First(s => s.Kind == SkipKind.Link).Reason);

        var followed = Deadline.Within(() => ImageDatasets.LoadDirectory(_dir["data"], new ImageLoadOptions
        {
            ImageSize = (16, 16), ColorMode = ColorMode.Grayscale, FollowLinks = true,
        }));
        Assert.Equal(2, followed.Count);   // each real directory once: the loops add nothing
        Assert.Contains(followed.Report.Skipped, s => s.Kind == SkipKind.Link && s.Reason.Contains("loop", StringComparison.Ordinal));
    }

    [LinuxFact]
    public void Item07_FollowLinks_reads_a_linked_folder_that_is_not_a_loop()
    {
        Make.ClassFolders(_dir["data"], 1, "a", "b");
        Make.ClassFolders(_dir["elsewhere"], 2, "more");
        Directory.CreateSymbolicLink(_dir["data/a/more"], _dir["elsewhere/more"]);
        Assert.Equal(2, ImageDatasets.LoadDirectory(_dir["data"], Small()).Count);
        Assert.Equal(4, ImageDatasets.LoadDirectory(_dir["data"], new ImageLoadOptions { ImageSize = (16, 16), ColorMode = ColorMode.Grayscale, FollowLinks = true }).Count);
    }

    // ---- 9. Shape arithmetic is checked and names the layer --------------------------------------------------

    [Fact]
    public void Item09_Flatten_of_65537x65537_fails_naming_the_layer()
    {
        var flatten = new Flatten("flat");
        var e = Assert.Throws<LayerShapeException>(() => flatten.ComputeOutputShape([65537, 65537, 1]));
        Assert.Equal("flat", e.LayerName);
        Assert.Contains("Layer 'flat' (Flatten)", e.Message);
        Assert.Contains("4,295,098,369", e.Message);
        Assert.Equal([6], new Flatten().ComputeOutputShape([1, 2, 3]));
    }

    [Fact]
    public void Item09_every_shape_computation_is_checked()
    {
        var model = Assert.ThrowsAny<ArgumentException>(() => new Sequential(new Input(65537, 65537, 1), new Flatten(), new Dense(2)));
        Assert.Contains("4,295,098,369", model.Message);

        var conv = Assert.Throws<LayerShapeException>(() => new Conv2D(64, 3, padding: Padding.Same, name: "wide").ComputeOutputShape([20000, 20000, 3]));
        Assert.Contains("Layer 'wide' (Conv2D)", conv.Message);
        Assert.Contains("output", conv.Message);

        var dense = Assert.Throws<LayerShapeException>(() => new Dense(100_000, name: "big").ComputeOutputShape([100_000]));
        Assert.Contains("Layer 'big' (Dense)", dense.Message);
        Assert.Contains("kernel", dense.Message);

        var same = Assert.Throws<LayerShapeException>(() => new MaxPooling2D(2, name: "pool").ComputeOutputShape([int.MaxValue, 2, 1]));
        Assert.Contains("'pool'", same.Message);

        var pad = Assert.Throws<LayerShapeException>(() => new ZeroPadding2D(int.MaxValue / 2 + 1, name: "pad").ComputeOutputShape([8, 8, 1]));
        Assert.Contains("Layer 'pad' (ZeroPadding2D)", pad.Message);
        Assert.Throws<LayerShapeException>(() => new Cropping2D(int.MaxValue, name: "crop").ComputeOutputShape([8, 8, 1]));   // used to wrap to 10×10
        var dw = Assert.Throws<LayerShapeException>(() => new DepthwiseConv2D(3, depthMultiplier: 1 << 20, name: "dw").ComputeOutputShape([8, 8, 4096]));
        Assert.Contains("Layer 'dw' (DepthwiseConv2D)", dw.Message);
        var cat = Assert.Throws<LayerShapeException>(() => new Concatenate(name: "cat").ComputeOutputShape([[1, 1, int.MaxValue], [1, 1, 2]]));
        Assert.Contains("'cat'", cat.Message);
    }

    // ---- 12. A directory where a file is expected says so ---------------------------------------------------

    [Fact]
    public void Item12_a_directory_passed_as_an_image_or_file_says_it_is_a_directory()
    {
        var e = Deadline.Throws<IOException>(() => ImageDatasets.LoadImage(_dir.Path, Small()));
        Assert.Contains("is a directory, not a file", e.Message);
        Assert.IsNotType<FileNotFoundException>(e);
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => SafeFile.EnsureRegularFile(_dir.Path, "Model file")).Message);
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => Idx.ReadLabels(_dir.Path)).Message);
        Assert.Throws<FileNotFoundException>(() => SafeFile.EnsureRegularFile(_dir["missing"]));
    }

    // ---- 13. Zips: a corrupt central directory names the zip; an encrypted zip says "encrypted" -------------

    private string Zip(string name)
    {
        Make.ClassFolders(_dir["z"], 2, "a", "b");
        string zip = _dir[name];
        ZipFile.CreateFromDirectory(_dir["z"], zip);
        return zip;
    }

    [Fact]
    public void Item13_a_corrupt_central_directory_names_the_zip()
    {
        string zip = Zip("corrupt.zip");
        var bytes = File.ReadAllBytes(zip);
        int cd = FindSignature(bytes, 0x02014b50);
        for (int i = cd; i < cd + 46; i++) bytes[i] ^= 0x5A;      // garble the first central directory record
        File.WriteAllBytes(zip, bytes);
        var e = Deadline.Throws<InvalidDataException>(() => ImageDatasets.LoadDirectory(zip, Small()));
        Assert.Contains(zip, e.Message);
        Assert.Contains("central directory", e.Message);
    }

    [Fact]
    public void Item13_an_encrypted_zip_says_encrypted()
    {
        string zip = Zip("secret.zip");
        var bytes = File.ReadAllBytes(zip);
        // Set the "encrypted" general-purpose flag in every local header and central directory record.
        for (int i = 0; i + 4 <= bytes.Length; i++)
        {
            uint sig = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i));
            if (sig == 0x04034b50) bytes[i + 6] |= 1;
            else if (sig == 0x02014b50) bytes[i + 8] |= 1;
        }
        File.WriteAllBytes(zip, bytes);
        var e = Deadline.Throws<InvalidDataException>(() => ImageDatasets.LoadDirectory(zip, Small()));
        Assert.Contains("encrypted", e.Message);
        Assert.Contains(zip, e.Message);
    }

    private static int FindSignature(byte[] bytes, uint signature)
    {
        for (int i = 0; i + 4 <= bytes.Length; i++)
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)) == signature) return i;
        throw new InvalidOperationException("signature not found");
    }

    // ---- 17. new Rescaling(1/255) ----------------------------------------------------------------------------

    [Fact]
    public void Item17_Rescaling_with_scale_0_names_the_integer_division_mistake()
    {
        int keras = 1 / 255;   // what new Rescaling(1/255) passes
        var e = Assert.Throws<ArgumentException>(() => new Rescaling(keras));
        Assert.Contains("1/255 is integer division", e.Message);
        Assert.Contains("new Rescaling(1f / 255)", e.Message);
        Assert.Contains("Rescaling.Divide(255)", e.Message);
        Assert.Throws<ArgumentException>(() => new Rescaling(float.NaN));
        Assert.Equal(1f / 255, Rescaling.Divide(255).Scale);
        Assert.Equal(-1f, Rescaling.Divide(127.5f, offset: -1f).Offset);
        Assert.Throws<ArgumentException>(() => Rescaling.Divide(0));
    }

    // ---- 21. Loader options that fit a model ----------------------------------------------------------------

    [Fact]
    public void Item21_a_shape_mismatch_says_which_loader_option_to_change()
    {
        Assert.Null(ImageLoadOptions.ExplainMismatch([80, 80, 1], [80, 80, 1]));
        string? m = ImageLoadOptions.ExplainMismatch([256, 256, 3], [80, 80, 1]);
        Assert.NotNull(m);
        Assert.Contains("(256, 256, 3)", m);
        Assert.Contains("ImageSize = (80, 80)", m);
        Assert.Contains("ColorMode = ColorMode.Grayscale", m);
        var fit = ImageLoadOptions.ForInput([80, 80, 1]);
        Assert.Equal((80, 80), fit.ImageSize);
        Assert.Equal(ColorMode.Grayscale, fit.ColorMode);
    }

    // ---- 22. A non-nullable test part ----------------------------------------------------------------------

    [Fact]
    public void Item22_LoadSplitWithTest_returns_a_non_null_test_or_says_it_is_missing()
    {
        Make.Split(_dir["with"], withTest: true, "a", "b");
        var (train, val, test) = ImageDatasets.LoadSplitWithTest(_dir["with"], Small());
        Assert.Equal(6, train.Count);
        Assert.Equal(2, val.Count);
        Assert.Equal(2, test.Count);                      // no test! needed: the type is non-nullable

        Make.Split(_dir["without"], withTest: false, "a", "b");
        var e = Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadSplitWithTest(_dir["without"], Small()));
        Assert.Contains("has no \"test\" folder", e.Message);
    }

    // ---- 24/25. One class; "1 class" -----------------------------------------------------------------------

    [Fact]
    public void Item24_a_one_class_folder_warns_through_the_warning_sink()
    {
        Make.ClassFolders(_dir["one"], 1, "only");
        var warnings = new List<string>();
        var ds = ImageDatasets.LoadDirectory(_dir["one"], new ImageLoadOptions { ImageSize = (8, 8), Warning = warnings.Add });
        Assert.Contains(warnings, w => w.Contains("only one class folder", StringComparison.Ordinal));
        Assert.Equal("Found 1 file belonging to 1 class.", ds.Report.Summary);   // item 25: not "1 classes"
    }
}
