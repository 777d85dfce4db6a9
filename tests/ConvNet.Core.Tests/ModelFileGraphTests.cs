using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>Model file v2 (graphs and nested models): round trips, the v1 fixture, and corrupt or crafted files.</summary>
public sealed class ModelFileGraphTests : IDisposable
{
    private const int HeaderSize = 24, HashSize = 32;
    private readonly TrainingTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A functional model with a nested, frozen base called with training: false, merges, a concatenation axis and class names.</summary>
    private static Model GraphModel()
    {
        var baseIn = new Input(6, 6, 2);
        var b = Applications.ResidualBlock(new Conv2D(3, 1, name: "stem").Apply(baseIn), 3, name: "res");
        var baseModel = new Model(baseIn, b, name: "base") { Trainable = false };
        var inputs = new Input(6, 6, 2);
        var f = baseModel.Apply(inputs, training: false);
        var g = new Conv2D(2, 3, padding: Padding.Same, activation: Activation.Tanh).Apply(inputs);
        var c = new Concatenate(axis: 3).Apply(f, g, new Multiply().Apply(g, g));
        var p = new MaxPooling2D().Apply(new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu).Apply(c));
        var avg = new Average().Apply(new Dense(3).Apply(new Flatten().Apply(p)), new Dense(3, Activation.Tanh).Apply(new GlobalAveragePooling2D().Apply(c)));
        return new Model(inputs, new Subtract().Apply(avg, new Dense(3).Apply(new GlobalAveragePooling2D().Apply(g))), name: "graph") { Seed = 11, ClassNames = ["a", "b", "c"] };
    }

    private string Saved(out Model model)
    {
        model = GraphModel();
        var path = _dir.File("graph.cnet");
        model.Save(path);
        return path;
    }

    [Fact]
    public void FunctionalAndNestedModelsRoundTripBitIdentically()
    {
        var path = Saved(out var model);
        var x = RandomTensor(new Rng(3), 4, 6, 6, 2);
        var expected = model.Predict(x).ToArray();
        var loaded = Model.Load(path);
        AssertExactlyEqual<float>(loaded.Predict(x).Span, expected, "predictions after load");
        Assert.Equal(model.Summary(), loaded.Summary());
        Assert.Equal(["a", "b", "c"], loaded.ClassNames);
        var nested = Assert.IsType<Model>(loaded.GetLayer("base"));
        Assert.False(nested.Trainable);
        Assert.All(nested.Layers, l => Assert.False(l.Trainable));
        Assert.Equal(false, nested.CallOutput!.Training);
        Assert.Equal(3, ((Concatenate)loaded.Layers.First(l => l is Concatenate)).Axis);
        var again = _dir.File("again.cnet");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));

        // LoadWeights into a fresh model of the same architecture
        var fresh = GraphModel();
        fresh.Seed = 99;
        fresh.LoadWeights(path);
        AssertExactlyEqual<float>(fresh.Predict(x).Span, expected, "predictions after LoadWeights");
    }

    [Fact]
    public void TheCompileConfigurationIsSavedSoALoadedModelCanEvaluate()
    {
        var path = Saved(out var model);
        Assert.False(Model.Load(path).IsCompiled);   // saved uncompiled
        model.Compile(new AdamW(0.002f, weightDecay: 0.01f, amsgrad: true), new SparseCategoricalCrossentropy(fromLogits: true),
            new Accuracy(), new SparseTopKCategoricalAccuracy(2, name: "top2"));
        var x = RandomTensor(new Rng(8), 6, 6, 6, 2);
        int[] y = [0, 1, 2, 0, 1, 2];
        model.Fit(x, y, epochs: 1, batchSize: 3, verbose: 0);
        model.Save(path);
        var loaded = Model.Load(path);
        Assert.True(loaded.IsCompiled);
        Assert.Equal(model.EvaluateNames, loaded.EvaluateNames);
        Assert.Equal(model.Evaluate(x, y), loaded.Evaluate(x, y));
        var (opt, loss, _) = loaded.Compiled!.Value;
        var adamw = Assert.IsType<AdamW>(opt);
        Assert.Equal(0.002f, adamw.LearningRate);
        Assert.Equal(0.01f, adamw.WeightDecay);
        Assert.True(adamw.Amsgrad);
        Assert.Equal(0, adamw.Iterations);   // optimizer state is not stored
        Assert.True(Assert.IsType<SparseCategoricalCrossentropy>(loss).FromLogits);
        loaded.Fit(x, y, epochs: 1, batchSize: 3, verbose: 0);   // ready to train again

        var seq = new Sequential(new Input(3), new Dense(1)) { Seed = 2 };
        seq.Compile(new RMSprop(), new Huber(0.5f), new MeanAbsoluteErrorMetric());
        var sp = _dir.File("seq-compiled.cnet");
        seq.Save(sp);
        var s2 = Sequential.Load(sp);
        Assert.Equal(["loss", "mean_absolute_error"], s2.EvaluateNames);
        Assert.Equal(0.5f, Assert.IsType<Huber>(s2.Compiled!.Value.Loss).Delta);
    }

    [Fact]
    public void SequentialLoadOfAFunctionalFileSaysWhatToUse()
    {
        var path = Saved(out _);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("Model.Load", e.Message);
        // a Sequential file loads as a Model too
        var seq = new Sequential(new Input(3), new Dense(2)) { Seed = 1 };
        var sp = _dir.File("seq.cnet");
        seq.Save(sp);
        Assert.IsType<Sequential>(Model.Load(sp));
    }

    [Fact]
    public void VersionOneFileFromTheEarlierCodeStillLoads()
    {
        // Written by commit b63710a (format v1); predictions on x[i] = 2·sin(0.37·i) recorded by that build.
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1-model.cnet");
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(path).AsSpan(8)));
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1-model.predictions.txt"))
            .Where(l => l.Length > 0).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        var model = Sequential.Load(path);
        Assert.Equal("v1_fixture", model.Name);
        Assert.False(model.GetLayer("hidden").Trainable);
        var x = new Tensor(3, 8, 8, 1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)Math.Sin(i * 0.37) * 2;
        AssertExactlyEqual<float>(model.Predict(x).Span, expected, "v1 fixture predictions");
        Assert.IsType<Sequential>(Model.Load(path));
    }

    [Fact]
    public void TruncationAtEveryOffsetIsReportedNamingTheFile()
    {
        var bytes = File.ReadAllBytes(Saved(out _));
        var p = _dir.File("cut.cnet");
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            File.WriteAllBytes(p, bytes[..cut]);
            var e = Assert.Throws<InvalidDataException>(() => Model.Load(p));
            Assert.Contains(p, e.Message);
        }
    }

    [Fact]
    public void FlippedBytesFailTheChecksum()
    {
        var bytes = File.ReadAllBytes(Saved(out _));
        var p = _dir.File("flip.cnet");
        for (int i = HeaderSize; i < bytes.Length; i += 97)
        {
            var b = bytes.ToArray();
            b[i] ^= 0x10;
            File.WriteAllBytes(p, b);
            var e = Assert.Throws<InvalidDataException>(() => Model.Load(p));
            Assert.Contains("checksum", e.Message);
        }
    }

    // ---- crafted v2 payloads: a valid header and checksum around a hostile graph ----

    private static void Str(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        w.Write(b.Length);
        w.Write(b);
    }

    private string CraftedV2(string name, Action<BinaryWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) body(w);
        var payload = ms.ToArray();
        var file = new byte[HeaderSize + payload.Length + HashSize];
        new byte[] { 0x89, (byte)'C', (byte)'N', (byte)'E', (byte)'T', 0x0D, 0x0A, 0x1A }.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(12), (ulong)payload.Length);
        payload.CopyTo(file, HeaderSize);
        SHA256.HashData(payload).CopyTo(file, HeaderSize + payload.Length);
        var p = _dir.File(name);
        File.WriteAllBytes(p, file);
        return p;
    }

    /// <summary>Functional "m": Input(2) → a second layer (Dense(3) by default) with the given inbound index; output = layer 1.</summary>
    private string Graph(string name, string type = "Dense", int inbound = 0, int units = 3, int layerCount = 2, int output = 1, int[]? kernel = null) =>
        CraftedV2(name, w =>
        {
            Str(w, "Functional"); Str(w, "m"); w.Write((byte)1);
            w.Write(1); w.Write(2);
            w.Write(layerCount);
            Str(w, "InputLayer"); Str(w, "in"); w.Write((byte)1);
            w.Write(1); Str(w, "shape"); Str(w, "2");
            w.Write(0);            // tensors
            w.Write(0);            // inbound
            w.Write((byte)0);      // training
            Str(w, type); Str(w, "d"); w.Write((byte)1);
            w.Write(3);
            Str(w, "activation"); Str(w, "linear");
            Str(w, "units"); Str(w, units.ToString(CultureInfo.InvariantCulture));
            Str(w, "use_bias"); Str(w, "false");
            var dims = kernel ?? [2, 3];
            w.Write(1); Str(w, "kernel"); w.Write(dims.Length);
            foreach (int d in dims) w.Write(d);
            for (int i = 0; i < dims.Aggregate(1, (a, b) => a * b); i++) w.Write(0.25f);
            w.Write(1); w.Write(inbound);
            w.Write((byte)0);
            w.Write(output);
            w.Write(0);            // class names
        });

    [Fact]
    public void CraftedValidGraphLoads()
    {
        var m = Model.Load(Graph("ok.cnet"));
        Assert.Equal("m", m.Name);
        Assert.Equal([0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f], m.GetWeights()[0]);
    }

    [Theory]
    [InlineData(1, "dangling")]
    [InlineData(7, "dangling")]
    [InlineData(-2, "dangling")]
    public void DanglingNodeReferenceIsInvalidData(int inbound, string word)
    {
        var p = Graph($"dangling{inbound}.cnet", inbound: inbound);
        var e = Assert.Throws<InvalidDataException>(() => Model.Load(p));
        Assert.Contains(p, e.Message);
        Assert.Contains(word, e.Message);
        Assert.Contains("'d'", e.Message);
    }

    [Fact]
    public void UnknownLayerTypeIsInvalidData()
    {
        var p = Graph("unknown.cnet", type: "Lambda");
        var e = Assert.Throws<InvalidDataException>(() => Model.Load(p));
        Assert.Contains("unknown layer type 'Lambda'", e.Message);
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void LyingSizesAreRejectedWithoutAllocating()
    {
        var counts = Graph("count.cnet", layerCount: 90_000);
        var huge = Graph("hugeunits.cnet", units: 50_000_000);
        var output = Graph("output.cnet", output: 9);
        foreach (var (p, word) in new[] { (counts, "layer count"), (huge, "configuration needs shape"), (output, "output layer") })
        {
            Assert.Throws<InvalidDataException>(() => Model.Load(p));   // warm-up
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => Model.Load(p));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1_000_000, $"{p}: Load allocated {allocated:N0} bytes");
            Assert.Contains(word, e.Message);
            Assert.Contains(p, e.Message);
        }
    }
}
