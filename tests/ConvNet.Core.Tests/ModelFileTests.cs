using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Save/Load round trips, corrupt and crafted files, LoadWeights mismatches and atomic saves.</summary>
public sealed class ModelFileTests : IDisposable
{
    private const int HeaderSize = 24, HashSize = 32;
    private readonly TrainingTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A model with every kind of saved configuration: Rescaling offset, custom names, non-square kernels and strides, no bias, a frozen layer.</summary>
    private static Sequential RichModel()
    {
        var m = new Sequential { Seed = 7, Name = "my_model", Threads = 1 };
        foreach (var l in new Layer[]
                 {
                     new Input(8, 8, 1),
                     new Rescaling(0.5f, 0.125f),
                     new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu, name: "conv1"),
                     new MaxPooling2D(2),
                     new Conv2D(3, (2, 3), (1, 2), Padding.Valid, Activation.Tanh, useBias: false),
                     new Flatten(),
                     new Dense(5, Activation.Tanh, name: "hidden") { Trainable = false },
                     new Dense(4),
                 })
            m.Add(l);
        return m;
    }

    private string SavedModelPath(out Sequential model)
    {
        model = RichModel();
        TrainingTestData.Compile(model);
        model.Fit(TrainingTestData.Quadrants(32, 1), epochs: 1, batchSize: 8, seed: 1);   // non-zero biases
        var path = _dir.File("model.cnet");
        model.Save(path);
        return path;
    }

    private static InvalidDataException AssertInvalid(string path, params string[] words)
    {
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains(path, e.Message);
        foreach (var w in words) Assert.Contains(w, e.Message, StringComparison.OrdinalIgnoreCase);
        return e;
    }

    private string WriteVariant(string name, byte[] bytes)
    {
        var p = _dir.File(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    [Fact]
    public void SaveLoadRoundTripIsBitIdentical()
    {
        var path = SavedModelPath(out var model);
        var loaded = Sequential.Load(path);
        loaded.Threads = 1;

        Assert.Equal("my_model", loaded.Name);
        Assert.Equal(model.InputShape, loaded.InputShape);
        Assert.Equal(model.Layers.Select(l => l.Name), loaded.Layers.Select(l => l.Name));
        Assert.Equal(model.Layers.Select(l => l.TypeName), loaded.Layers.Select(l => l.TypeName));
        Assert.Equal(model.Layers.Select(l => l.Trainable), loaded.Layers.Select(l => l.Trainable));
        Assert.False(loaded.Layers.First(l => l.Name == "hidden").Trainable);
        var r = Assert.IsType<Rescaling>(loaded.Layers[1]);
        Assert.Equal((0.5f, 0.125f), (r.Scale, r.Offset));
        var c = Assert.IsType<Conv2D>(loaded.Layers[4]);
        Assert.Equal((3, (2, 3), (1, 2), Padding.Valid, Activation.Tanh, false), (c.Filters, c.KernelSize, c.Strides, c.Padding, c.Activation, c.UseBias));
        var d = Assert.IsType<Dense>(loaded.Layers[6]);
        Assert.Equal((5, Activation.Tanh, true), (d.Units, d.Activation, d.UseBias));
        Assert.Equal(model.Summary(), loaded.Summary());

        TrainingTestData.AssertWeightsIdentical(model.GetWeights(), loaded.GetWeights(), "loaded weights");
        var x = TrainingTestData.Quadrants(20, 5).X;
        var expected = model.Predict(x).ToArray();
        var actual = loaded.Predict(x).ToArray();
        TestUtil.AssertExactlyEqual<float>(actual, expected, "predictions after load");

        // saving the loaded model reproduces the file byte for byte
        var again = _dir.File("again.cnet");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void HeaderLayoutIsAsDocumented()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        Assert.Equal(new byte[] { 0x89, (byte)'C', (byte)'N', (byte)'E', (byte)'T', 0x0D, 0x0A, 0x1A }, bytes[..8]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal((ulong)(bytes.Length - HeaderSize - HashSize), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(SHA256.HashData(bytes.AsSpan(HeaderSize, bytes.Length - HeaderSize - HashSize)), bytes[^HashSize..]);
    }

    [Fact]
    public void MissingFileThrowsFileNotFound()
    {
        var path = _dir.File("does-not-exist.cnet");
        var e = Assert.Throws<FileNotFoundException>(() => Sequential.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Throws<FileNotFoundException>(() => TrainingTestData.PointModel(1).LoadWeights(path));
    }

    [Fact]
    public void TruncatedFilesAreReportedAsTruncated()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        int n = bytes.Length;
        foreach (int cut in new[] { 8, 12, 20, 24, 40, HeaderSize + HashSize, 100, n / 2, n - HashSize - 1, n - HashSize, n - 1 })
        {
            var p = WriteVariant($"cut{cut}.cnet", bytes[..cut]);
            var e = AssertInvalid(p);
            Assert.True(e.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase), $"cut at {cut} of {n}: {e.Message}");
        }
    }

    [Fact]
    public void FilesCutInsideTheMagicAreRejected()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        foreach (int cut in new[] { 0, 1, 5, 7 })
            AssertInvalid(WriteVariant($"short{cut}.cnet", bytes[..cut]));
    }

    [Fact]
    public void GarbageBytesAreNotAModelFile()
    {
        var rng = new Rng(3);
        var garbage = new byte[1000];
        for (int i = 0; i < garbage.Length; i++) garbage[i] = (byte)rng.NextInt(256);
        garbage[0] = 0x42;
        AssertInvalid(WriteVariant("garbage.cnet", garbage), "not a ConvNet model file");
        AssertInvalid(WriteVariant("text.cnet", Encoding.UTF8.GetBytes("{\"model\": \"keras\"}")), "magic");
    }

    [Fact]
    public void WrongMagicIsReported()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        foreach (int i in new[] { 0, 3, 7 })
        {
            var b = bytes.ToArray();
            b[i] ^= 0x20;
            AssertInvalid(WriteVariant($"magic{i}.cnet", b), "magic");
        }
    }

    [Fact]
    public void FlippedByteIsAChecksumMismatch()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        int n = bytes.Length;
        foreach (int i in new[] { HeaderSize, HeaderSize + 5, n / 2, n - HashSize - 1, n - HashSize, n - 1 })
        {
            var b = bytes.ToArray();
            b[i] ^= 0x01;
            AssertInvalid(WriteVariant($"flip{i}.cnet", b), "checksum");
        }
    }

    [Fact]
    public void NewerVersionIsReportedBeforeTheChecksum()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 3);   // only the version field changes
        var e = AssertInvalid(WriteVariant("v3.cnet", bytes), "version 3", "newer");
        Assert.DoesNotContain("checksum", e.Message);
        Assert.Contains("2", e.Message);   // the newest version this build reads

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0);
        AssertInvalid(WriteVariant("v0.cnet", bytes), "version 0");
    }

    [Theory]
    [InlineData(1UL << 40)]
    [InlineData(ulong.MaxValue)]
    [InlineData((ulong)long.MaxValue)]
    [InlineData((ulong)int.MaxValue + 1)]
    public void HugeDeclaredPayloadIsRejectedWithoutAllocating(ulong declared)
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(12), declared);
        var p = WriteVariant("huge.cnet", bytes);
        Assert.Throws<InvalidDataException>(() => Sequential.Load(p));   // warm-up (exception machinery)
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(p));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 10_000_000, $"Load allocated {allocated:N0} bytes for a file declaring a {declared}-byte payload");
        Assert.Contains(p, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void SmallerDeclaredPayloadIsCorrupt()
    {
        var bytes = File.ReadAllBytes(SavedModelPath(out _));
        ulong len = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(12));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(12), len - 4);
        AssertInvalid(WriteVariant("short-payload.cnet", bytes), "corrupt");
    }

    // ---- crafted files: a valid header and checksum around a hostile payload ----

    private static void Str(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        w.Write(b.Length);
        w.Write(b);
    }

    private static byte[] Crafted(Action<BinaryWriter> payload)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) payload(w);
        var p = ms.ToArray();
        var file = new byte[HeaderSize + p.Length + HashSize];
        new byte[] { 0x89, (byte)'C', (byte)'N', (byte)'E', (byte)'T', 0x0D, 0x0A, 0x1A }.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(12), (ulong)p.Length);
        p.CopyTo(file, HeaderSize);
        SHA256.HashData(p).CopyTo(file, HeaderSize + p.Length);
        return file;
    }

    /// <summary>Model "m" with input (2,) and the given layers, each written by its own action.</summary>
    private static byte[] CraftedModel(params Action<BinaryWriter>[] layers) => Crafted(w =>
    {
        Str(w, "m");
        w.Write(1); w.Write(2);
        w.Write(layers.Length);
        foreach (var l in layers) l(w);
    });

    private static Action<BinaryWriter> DenseRecord(string name, int units, int[] kernelDims, int floats) => w =>
    {
        Str(w, "Dense"); Str(w, name); w.Write((byte)1);
        w.Write(3);
        Str(w, "activation"); Str(w, "linear");
        Str(w, "units"); Str(w, units.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Str(w, "use_bias"); Str(w, "false");
        w.Write(1);
        Str(w, "kernel");
        w.Write(kernelDims.Length);
        foreach (int d in kernelDims) w.Write(d);
        for (int i = 0; i < floats; i++) w.Write(0.5f);
    };

    [Fact]
    public void CraftedValidFileLoads()
    {
        // sanity check of the crafting helper: Dense(3, no bias) on (2,) with a (2, 3) kernel
        var p = WriteVariant("ok.cnet", CraftedModel(DenseRecord("d", 3, [2, 3], 6)));
        var m = Sequential.Load(p);
        Assert.Equal("m", m.Name);
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f], m.GetWeights()[0]);
    }

    [Fact]
    public void CraftedTensorWhoseSizeOverflowsIsInvalidData()
    {
        // 65536·65536·65536·16384 = 2^62 floats: 4 × 2^62 wraps to 0 in 64-bit arithmetic.
        var p = WriteVariant("overflow.cnet", CraftedModel(DenseRecord("d", 3, [65536, 65536, 65536, 16384], 0)));
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(p));
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void CraftedTensorLargerThanTheFileIsInvalidData()
    {
        var p = WriteVariant("bigtensor.cnet", CraftedModel(DenseRecord("d", 3, [2, 100_000_000], 6)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(p));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000, "allocated for a tensor the file cannot hold");
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void CraftedHugeLayerConfigIsRejectedWithoutAllocating()
    {
        // A 200-byte file declaring Dense(units: 2,000,000) with a (2, 3) kernel: the shapes disagree, so loading must fail
        // — and must not first build a 2 × 2,000,000 kernel (plus gradient) the file cannot possibly fill.
        var p = WriteVariant("hugeconfig.cnet", CraftedModel(DenseRecord("d", 2_000_000, [2, 3], 6)));
        Assert.Throws<InvalidDataException>(() => Sequential.Load(p));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(p));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(p, e.Message);
        Assert.True(allocated < 10_000_000, $"Load allocated {allocated:N0} bytes for a {new FileInfo(p).Length}-byte file");
    }

    [Fact]
    public void CraftedUnknownLayerTypeIsInvalidData()
    {
        var p = WriteVariant("lambda.cnet", CraftedModel(w =>
        {
            Str(w, "Lambda"); Str(w, "evil"); w.Write((byte)1);
            w.Write(1); Str(w, "code"); Str(w, "import os");
            w.Write(0);
        }));
        AssertInvalid(p, "Lambda", "evil");
    }

    [Fact]
    public void CraftedDuplicateLayerNamesAreInvalidData()
    {
        var p = WriteVariant("dup.cnet", CraftedModel(DenseRecord("d", 2, [2, 2], 4), DenseRecord("d", 2, [2, 2], 4)));
        AssertInvalid(p, "'d'");
    }

    [Fact]
    public void CraftedArchitectureThatDoesNotFitItsInputIsInvalidData()
    {
        // InputLayer (2,) followed by a Conv2D, which needs (H, W, C) input.
        var p = WriteVariant("nofit.cnet", Crafted(w =>
        {
            Str(w, "m");
            w.Write(1); w.Write(2);
            w.Write(2);
            Str(w, "InputLayer"); Str(w, "input_layer"); w.Write((byte)1);
            w.Write(1); Str(w, "shape"); Str(w, "2");
            w.Write(0);
            Str(w, "Conv2D"); Str(w, "conv2d"); w.Write((byte)1);
            var cfg = new[] { ("activation", "linear"), ("filters", "2"), ("kernel_size", "1,1"), ("padding", "valid"), ("strides", "1,1"), ("use_bias", "false") };
            w.Write(cfg.Length);
            foreach (var (k, v) in cfg) { Str(w, k); Str(w, v); }
            w.Write(0);
        }));
        AssertInvalid(p);
    }

    [Fact]
    public void CraftedBadConfigValueIsInvalidData()
    {
        var p = WriteVariant("badcfg.cnet", CraftedModel(DenseRecord("d", -3, [2, 3], 6)));
        AssertInvalid(p, "'d'", "invalid configuration");
    }

    // ---- LoadWeights ----

    [Fact]
    public void LoadWeightsIntoSameArchitectureCopiesWeights()
    {
        var source = TrainingTestData.PointModel(1);
        var path = _dir.File("points.cnet");
        source.Save(path);
        var target = TrainingTestData.PointModel(2);
        Assert.False(TrainingTestData.WeightsIdentical(source.GetWeights(), target.GetWeights()));
        target.LoadWeights(path);
        TrainingTestData.AssertWeightsIdentical(source.GetWeights(), target.GetWeights(), "LoadWeights");
    }

    [Fact]
    public void LoadWeightsWithDifferentDenseSizeNamesLayerAndShapesAndChangesNothing()
    {
        var source = TrainingTestData.PointModel(1, classes: 4);   // dense (2→8), dense_1 (8→4)
        var path = _dir.File("points4.cnet");
        source.Save(path);
        var target = TrainingTestData.PointModel(2, classes: 5);   // dense (2→8) matches, dense_1 (8→5) does not
        var before = target.GetWeights();
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'dense_1'", e.Message);
        Assert.Contains("(8, 5)", e.Message);
        Assert.Contains("(8, 4)", e.Message);
        // nothing was copied, not even into the first layer whose shapes match
        TrainingTestData.AssertWeightsIdentical(before, target.GetWeights(), "weights after a failed LoadWeights");
    }

    [Fact]
    public void LoadWeightsWithDifferentLayerCountIsInvalidData()
    {
        var source = TrainingTestData.PointModel(1);
        var path = _dir.File("points.cnet");
        source.Save(path);
        var target = new Sequential(new Input(2), new Dense(4));
        var before = target.GetWeights();
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
        Assert.Contains(path, e.Message);
        TrainingTestData.AssertWeightsIdentical(before, target.GetWeights(), "weights after a failed LoadWeights");
    }

    // ---- atomic save ----

    [Fact]
    public void CrashDuringSaveLeavesTheOldFileIntact()
    {
        var folder = Path.Combine(_dir.Path, "atomic");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.cnet");
        var old = TrainingTestData.PointModel(1);
        old.Save(path);
        var oldBytes = File.ReadAllBytes(path);

        var changed = TrainingTestData.PointModel(2);
        long written = -1;
        var e = Assert.Throws<IOException>(() => ModelFile.Save(changed, path, s =>
        {
            written = s.Length;
            throw new IOException("simulated crash before commit");
        }));
        Assert.Equal("simulated crash before commit", e.Message);
        Assert.True(written > HeaderSize + HashSize, "the temporary file was written before the crash");
        Assert.Equal(oldBytes, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder));   // no temporary file left behind
        TrainingTestData.AssertWeightsIdentical(old.GetWeights(), Sequential.Load(path).GetWeights(), "old model after a crashed save");
    }

    [Fact]
    public void CrashDuringFirstSaveLeavesNoFile()
    {
        var folder = Path.Combine(_dir.Path, "first");
        var path = Path.Combine(folder, "model.cnet");
        Assert.Throws<InvalidOperationException>(() =>
            ModelFile.Save(TrainingTestData.PointModel(1), path, _ => throw new InvalidOperationException("boom")));
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public void SaveOverwritesAndLeavesNoTemporaryFiles()
    {
        var folder = Path.Combine(_dir.Path, "overwrite");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.cnet");
        TrainingTestData.PointModel(1).Save(path);
        var second = TrainingTestData.PointModel(2);
        second.Save(path);
        Assert.Equal([path], Directory.GetFiles(folder));
        TrainingTestData.AssertWeightsIdentical(second.GetWeights(), Sequential.Load(path).GetWeights(), "overwritten model");
    }

    [Fact]
    public void SavingAnUnbuiltModelThrows()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Sequential(new Dense(3)).Save(_dir.File("x.cnet")));
        Assert.Contains("not built", e.Message);
        Assert.False(File.Exists(_dir.File("x.cnet")));
    }
}
