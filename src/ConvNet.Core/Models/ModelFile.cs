using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ConvNet;

/// <summary>
/// The ConvNet model file (little-endian). Version 2 stores the graph; version-1 files (Sequential chains) still load.
/// Saving is atomic (a temporary file renamed over the target); temporary files left by a killed save are deleted by the next
/// save to the same file.
/// <code>
/// header   8 B  magic 89 43 4E 45 54 0D 0A 1A ("\x89CNET\r\n\x1A")
///          4 B  format version (uint32) = 2
///          8 B  payload length (uint64)
///          4 B  reserved = 0
/// payload       model; int32 class-name count, strings (optional class names, e.g. from the training folders);
///               byte 1 + compile configuration (optimizer, loss, metrics: string type, int32 n, n × (key, value)), or byte 0
///   model       string kind ("Sequential" | "Functional"); string name; byte trainable; int32 input rank, int32 dims…;
///               int32 layer count; layers; int32 index of the output layer (−1: the input)
///   layer       string type, string name, byte trainable, int32 n, n × (string key, string value),
///               int32 tensor count, per tensor: string name, int32 rank, int32 dims…, float32 data;
///               int32 inbound count, int32 inbound layer indices (each earlier; −1: the model input);
///               byte training argument (0 none, 1 false, 2 true); a nested model (type Functional or Sequential)
///               follows as a model record (at most 8 levels deep)
/// trailer 32 B  SHA-256 of the payload
/// v1 payload    string name; int32 input rank, dims…; int32 layer count; layers as above without inbound,
///               training and nested records (a chain)
/// </code>
/// Strings are int32 byte length (≤ 4096) + UTF-8. Loading validates every size against the bytes that remain before
/// allocating, checks the hash, infers every layer's shapes and checks the stored tensors against them before any layer
/// allocates weights, and only constructs the known layer types; it never runs code from the file.
/// </summary>
public static class ModelFile
{
    /// <summary>The format version this build writes and the newest it reads.</summary>
    public const uint FormatVersion = 2;
    private static ReadOnlySpan<byte> Magic => [0x89, (byte)'C', (byte)'N', (byte)'E', (byte)'T', 0x0D, 0x0A, 0x1A];
    private const int HeaderSize = 24, HashSize = 32, MaxString = 4096;

    /// <summary>Writes the model atomically: a temporary file in the same folder is written, flushed and renamed over <paramref name="path"/>.</summary>
    public static void Save(Model model, string path) => Save(model, path, null);

    internal static void Save(Model model, string path, Action<Stream>? beforeCommit)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!model.IsBuilt) throw new InvalidOperationException($"Model '{model.Name}' is not built; nothing to save.");
        var payload = WritePayload(model);
        var full = Path.GetFullPath(path);
        ConvNet.IO.SafeFile.EnsureWritableTarget(full, "Model file");
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        RemoveStaleTemporaryFiles(dir, Path.GetFileName(full));
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Span<byte> header = stackalloc byte[HeaderSize];
                Magic.CopyTo(header);
                BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
                BinaryPrimitives.WriteUInt64LittleEndian(header[12..], (ulong)payload.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 0);
                fs.Write(header);
                fs.Write(payload);
                fs.Write(SHA256.HashData(payload));
                beforeCommit?.Invoke(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private const int MaxDepth = 8, MaxLayers = 100_000;

    /// <summary>
    /// Deletes temporary files that an interrupted save of <paramref name="fileName"/> left behind (a process killed between
    /// writing and renaming): <c>.name.&lt;32 hex digits&gt;.tmp</c> in the same folder. A file that another save still holds
    /// open (exclusive lock) is left alone.
    /// </summary>
    private static void RemoveStaleTemporaryFiles(string dir, string fileName)
    {
        if (!Directory.Exists(dir)) return;
        string prefix = "." + fileName + ".";
        foreach (var f in Directory.EnumerateFiles(dir, "." + fileName + ".*.tmp"))
        {
            var name = Path.GetFileName(f);
            var middle = name.AsSpan(prefix.Length, name.Length - prefix.Length - ".tmp".Length);
            if (middle.Length != 32 || !IsHex(middle)) continue;
            try
            {
                using (new FileStream(f, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(f);
            }
            catch (IOException) { }   // in use by a save that is still running
            catch (UnauthorizedAccessException) { }
        }

        static bool IsHex(ReadOnlySpan<char> s)
        {
            foreach (char c in s) if (!char.IsAsciiHexDigitLower(c)) return false;
            return true;
        }
    }

    private static byte[] WritePayload(Model model)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        WriteModel(w, model);
        var classes = model.ClassNames ?? [];
        w.Write(classes.Count);
        foreach (var c in classes) WriteString(w, c);
        // Optional compile configuration (see CompileConfig): byte 0 none, 1 present.
        var compiled = model.Compiled is { } cc ? CompileConfig.Describe(cc.Optimizer, cc.Loss, cc.Metrics) : null;
        w.Write((byte)(compiled is null ? 0 : 1));
        if (compiled is { } d)
        {
            WriteEntry(w, d.Optimizer);
            WriteEntry(w, d.Loss);
            w.Write(d.Metrics.Length);
            foreach (var m in d.Metrics) WriteEntry(w, m);
        }
        w.Flush();
        return ms.ToArray();
    }

    private static void WriteModel(BinaryWriter w, Model model)
    {
        WriteString(w, model is Sequential ? "Sequential" : "Functional");
        WriteString(w, model.Name);
        w.Write((byte)(model.Trainable ? 1 : 0));
        w.Write(model.InputShape!.Count);
        foreach (int d in model.InputShape) w.Write(d);
        var layers = model.Layers;
        var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < layers.Count; i++) if (layers[i].CallOutput is { } t) index[t] = i;
        int Ref(SymbolicTensor t) => index.TryGetValue(t, out int i) ? i : -1;   // −1: the model input (Sequential without Input)
        w.Write(layers.Count);
        foreach (var l in layers)
        {
            WriteString(w, l.TypeName);
            WriteString(w, l.Name);
            w.Write((byte)(l.Trainable ? 1 : 0));
            var cfg = new SortedDictionary<string, string>(StringComparer.Ordinal);
            l.WriteConfig(cfg);
            w.Write(cfg.Count);
            foreach (var (k, v) in cfg) { WriteString(w, k); WriteString(w, v); }
            var own = l is Model ? [] : l.Parameters;
            w.Write(own.Count);
            foreach (var p in own)
            {
                WriteString(w, p.Name);
                var dims = p.Value.Shape.ToArray();
                w.Write(dims.Length);
                foreach (int d in dims) w.Write(d);
                foreach (float f in p.Value.Span) w.Write(f);
            }
            var inbound = l.CallOutput?.Inputs ?? [];
            w.Write(inbound.Length);
            foreach (var t in inbound) w.Write(Ref(t));
            w.Write((byte)(l.CallOutput?.Training switch { null => 0, false => 1, true => 2 }));
            if (l is Model nested) WriteModel(w, nested);
        }
        w.Write(model.OutputTensor is { } o ? Ref(o) : -1);
    }

    private static void WriteEntry(BinaryWriter w, CompileConfig.Entry e)
    {
        WriteString(w, e.Type);
        w.Write(e.Config.Count);
        foreach (var (k, v) in e.Config) { WriteString(w, k); WriteString(w, v); }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (b.Length > MaxString) throw new ArgumentException($"String '{s[..32]}…' is longer than {MaxString} bytes.");
        w.Write(b.Length);
        w.Write(b);
    }

    /// <summary>Reads a <see cref="Sequential"/> model file (architecture and weights).</summary>
    /// <exception cref="InvalidDataException">The file is truncated, not a model file, corrupt, from a newer format, or holds a
    /// functional model (use <see cref="LoadModel"/>); the message names the file.</exception>
    public static Sequential Load(string path)
    {
        var (body, classes) = Read(path);
        if (body.Kind != "Sequential")
            throw Bad(path, $"it holds a {body.Kind} model '{body.Name}', not a Sequential one; load it with Model.Load");
        var model = (Sequential)Construct(body, path, 0);
        model.ClassNames = classes;
        ApplyCompile(model, body, path);
        return model;
    }

    /// <summary>Reads any model file: a functional model, a <see cref="Sequential"/> one, or a version-1 file.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, not a model file, corrupt, or from a newer format; the message names the file.</exception>
    public static Model LoadModel(string path)
    {
        var (body, classes) = Read(path);
        var model = Construct(body, path, 0);
        model.ClassNames = classes;
        ApplyCompile(model, body, path);
        return model;
    }

    /// <summary>Loads only the weights into an existing, built model with the same layers; names the layer whose shape differs.</summary>
    public static void LoadWeights(Model model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (body, _) = Read(path);
        if (!model.IsBuilt && model is Sequential s) s.Build(body.Input);
        var layers = WeightLayers(model).ToList();
        var recs = WeightRecords(body).ToList();
        if (layers.Count != recs.Count)
            throw Bad(path, $"it has weights for {recs.Count} layers but model '{model.Name}' has {layers.Count} layers with weights");
        // Validate every shape first so that a mismatch changes nothing.
        for (int i = 0; i < recs.Count; i++)
        {
            var l = layers[i]; var r = recs[i];
            if (l.Parameters.Count != r.Tensors.Count)
                throw Bad(path, $"layer '{r.Name}' has {r.Tensors.Count} tensors but model layer '{l.Name}' ({l.TypeName}) has {l.Parameters.Count}");
            for (int j = 0; j < r.Tensors.Count; j++)
                if (!l.Parameters[j].Value.Shape.ToArray().SequenceEqual(r.Tensors[j].Dims))
                    throw Bad(path, $"layer '{l.Name}' ({l.TypeName}) {l.Parameters[j].Name}: the model has shape {l.Parameters[j].Value.Shape}, the file has {Shape.Format(r.Tensors[j].Dims)}");
        }
        for (int i = 0; i < recs.Count; i++)
            for (int j = 0; j < recs[i].Tensors.Count; j++)
                recs[i].Tensors[j].Data.CopyTo(layers[i].Parameters[j].Value.Span);
    }

    private static IEnumerable<Layer> WeightLayers(Model m) =>
        m.Layers.SelectMany(l => l is Model inner ? WeightLayers(inner) : l.Parameters.Count > 0 ? [l] : []);

    private static IEnumerable<LayerRecord> WeightRecords(ModelRecord m) =>
        m.Layers.SelectMany(r => r.Nested is { } inner ? WeightRecords(inner) : r.Tensors.Count > 0 ? [r] : []);

    private sealed record TensorRecord(string Name, int[] Dims, float[] Data);
    private sealed record LayerRecord(string Type, string Name, bool Trainable, Dictionary<string, string> Config, List<TensorRecord> Tensors,
        int[] Inbound, bool? Training, ModelRecord? Nested);
    private sealed record ModelRecord(string Kind, string Name, bool Trainable, int[] Input, List<LayerRecord> Layers, int Output)
    {
        public CompiledRecord? Compiled { get; init; }
    }

    private sealed record CompiledRecord(CompileConfig.Entry Optimizer, CompileConfig.Entry Loss, CompileConfig.Entry[] Metrics);

    // Compiles a loaded model with the stored configuration (validated: a bad entry names itself).
    private static void ApplyCompile(Model model, ModelRecord body, string path)
    {
        if (body.Compiled is not { } c) return;
        try
        {
            var (opt, loss, metrics) = CompileConfig.Create(c.Optimizer, c.Loss, c.Metrics);
            model.Compile(opt, loss, metrics);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or KeyNotFoundException or InvalidOperationException)
        { throw Bad(path, $"the compile configuration ({c.Optimizer.Type}, {c.Loss.Type}) is invalid: {e.Message}"); }
    }

    private static InvalidDataException Bad(string path, string why) => new($"Model file \"{path}\": {why}.");

    // ---- construction: infer every shape and check every stored tensor first, then build ----

    private static Model Construct(ModelRecord body, string path, int depth)
    {
        var layers = new Layer[body.Layers.Count];
        var shapes = new IReadOnlyList<int>[body.Layers.Count];
        for (int i = 0; i < layers.Length; i++)
        {
            var rec = body.Layers[i];
            var inShapes = rec.Inbound.Select(j => j < 0 ? body.Input : shapes[j]).ToArray();
            string what = $"layer '{rec.Name}' ({rec.Type})";
            if (rec.Nested is { } nested)
            {
                var inner = Construct(nested, path, depth + 1);
                inner.Trainable = rec.Trainable;
                layers[i] = inner;
                if (inShapes.Length != 1 || !inShapes[0].SequenceEqual(inner.InputShape!))
                    throw Bad(path, $"{what} expects input {Layer.Fmt(inner.InputShape!, true)} but is connected to {string.Join(", ", inShapes.Select(s => Layer.Fmt(s, true)))}");
                shapes[i] = inner.OutputShape;
                continue;
            }
            Layer layer;
            try { layer = LayerFactory.Create(rec.Type, rec.Name, rec.Config); }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or KeyNotFoundException)
            { throw Bad(path, $"{what} has an invalid configuration: {e.Message}"); }
            layer.Trainable = rec.Trainable;
            layer.Seed = 0;   // weights come from the file: the model must not re-initialise them
            try
            {
                if (layer is Input input)
                {
                    if (rec.Inbound.Length != 0) throw Bad(path, $"{what} is an input but has inbound layers");
                    if (body.Kind == "Sequential" && !input.Shape.SequenceEqual(body.Input))
                        throw Bad(path, $"{what} declares shape {Layer.Fmt(input.Shape, true)} but the model's input is {Layer.Fmt(body.Input, true)}");
                    shapes[i] = input.Shape;
                }
                else
                {
                    if (inShapes.Length < layer.MinInputs || (layer is not Merge && inShapes.Length != 1))
                        throw Bad(path, $"{what} has {inShapes.Length} inbound layers");
                    // Shapes and parameter shapes are checked BEFORE anything is allocated.
                    shapes[i] = layer is Merge m ? m.ComputeOutputShape(inShapes) : layer.ComputeOutputShape(inShapes[0]);
                    var expected = layer is Merge ? [] : layer.ParameterShapes(inShapes[0]);
                    if (expected.Length != rec.Tensors.Count)
                        throw Bad(path, $"{what} stores {rec.Tensors.Count} tensors but its configuration needs {expected.Length}");
                    for (int j = 0; j < expected.Length; j++)
                        if (!expected[j].SequenceEqual(rec.Tensors[j].Dims))
                            throw Bad(path, $"{what} {rec.Tensors[j].Name}: its configuration needs shape {Shape.Format(expected[j])}, the file has {Shape.Format(rec.Tensors[j].Dims)}");
                }
            }
            catch (ArgumentException e)
            { throw Bad(path, $"{what} does not fit the architecture (input {string.Join(", ", inShapes.Select(s => Layer.Fmt(s, true)))}): {e.Message}"); }
            layers[i] = layer;
        }
        Model model;
        try { model = body.Kind == "Sequential" ? BuildSequential(body, layers) : BuildFunctional(body, layers, path); }
        catch (ArgumentException e) { throw Bad(path, $"the architecture does not fit its input shape {Layer.Fmt(body.Input, true)}: {e.Message}"); }
        for (int i = 0; i < layers.Length; i++)
        {
            if (body.Layers[i].Nested is not null) continue;
            var ps = layers[i].Parameters;
            for (int j = 0; j < ps.Count; j++) body.Layers[i].Tensors[j].Data.CopyTo(ps[j].Value.Span);
        }
        if (!body.Trainable) model.Trainable = false;   // sets every layer; the stored per-layer flags follow
        for (int i = 0; i < layers.Length; i++) layers[i].Trainable = body.Layers[i].Trainable;
        return model;
    }

    private static Sequential BuildSequential(ModelRecord body, Layer[] layers)
    {
        var model = new Sequential { Name = body.Name };
        foreach (var l in layers) model.Add(l);
        model.Build(body.Input);
        return model;
    }

    private static Model BuildFunctional(ModelRecord body, Layer[] layers, string path)
    {
        var tensors = new SymbolicTensor[layers.Length];
        SymbolicTensor? input = null;
        for (int i = 0; i < layers.Length; i++)
        {
            var rec = body.Layers[i];
            if (layers[i] is Input inp)
            {
                if (input is not null) throw Bad(path, $"layer '{rec.Name}' is a second input; models have one input");
                tensors[i] = input = inp;
                continue;
            }
            if (rec.Inbound.Any(j => j < 0)) throw Bad(path, $"layer '{rec.Name}' of functional model '{body.Name}' refers to no layer (index −1)");
            var ins = rec.Inbound.Select(j => tensors[j]).ToArray();
            tensors[i] = ins.Length == 1 ? layers[i].Apply(ins[0], rec.Training) : layers[i].Apply(ins);
        }
        if (input is null) throw Bad(path, $"functional model '{body.Name}' has no input layer");
        if (body.Output < 0) throw Bad(path, $"functional model '{body.Name}' has no output layer");
        return new Model(input, tensors[body.Output], body.Name);
    }

    // ---- reading ----

    private static (ModelRecord Body, IReadOnlyList<string>? Classes) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Only regular files: a directory, FIFO, device or socket is refused by name (a FIFO would block forever).
        using var fs = ConvNet.IO.SafeFile.OpenRead(path, "Model file");
        long len = fs.Length;
        Span<byte> header = stackalloc byte[HeaderSize];
        if (len < Magic.Length || fs.ReadAtLeast(header[..Magic.Length], Magic.Length, false) < Magic.Length || !header[..Magic.Length].SequenceEqual(Magic))
            throw Bad(path, "not a ConvNet model file (wrong magic bytes)");
        if (len < HeaderSize + HashSize) throw Bad(path, $"truncated: {len} bytes is shorter than the {HeaderSize + HashSize}-byte header and checksum");
        fs.ReadExactly(header[Magic.Length..]);
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version > FormatVersion) throw Bad(path, $"format version {version} was written by a newer ConvNet; this build reads versions up to {FormatVersion}");
        if (version == 0) throw Bad(path, "format version 0 is invalid");
        ulong payloadLen = BinaryPrimitives.ReadUInt64LittleEndian(header[12..]);
        if (payloadLen != (ulong)(len - HeaderSize - HashSize))
            throw Bad(path, payloadLen > (ulong)(len - HeaderSize - HashSize)
                ? $"truncated: the header declares a {payloadLen}-byte payload but only {len - HeaderSize - HashSize} bytes follow"
                : $"corrupt: the header declares a {payloadLen}-byte payload but {len - HeaderSize - HashSize} bytes follow");
        var payload = new byte[payloadLen];
        fs.ReadExactly(payload);
        Span<byte> hash = stackalloc byte[HashSize];
        fs.ReadExactly(hash);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash)) throw Bad(path, "checksum mismatch: the file is corrupt");
        try { return version == 1 ? (ParseV1(payload), null) : ParseV2(payload); }
        catch (InvalidDataException e) { throw Bad(path, e.Message); }
    }

    private static ModelRecord ParseV1(byte[] payload)
    {
        var r = new Reader(payload);
        string name = r.String();
        int[] input = r.Dims(3);
        int layerCount = r.Count(1000, "layer count");
        var layers = new List<LayerRecord>(layerCount);
        for (int i = 0; i < layerCount; i++)
        {
            var (type, lname, trainable, cfg, tensors) = ReadLayerCore(r);
            // v1 is a chain: each layer reads the previous one (the first reads the model input).
            int[] inbound = type == "InputLayer" ? [] : [layers.Count > 0 ? layers.Count - 1 : -1];
            layers.Add(new LayerRecord(type, lname, trainable, cfg, tensors, inbound, null, null));
        }
        if (!r.AtEnd) throw new InvalidDataException($"{r.Remaining} unexpected bytes after the last layer");
        return new ModelRecord("Sequential", name, true, input, layers, layers.Count - 1);
    }

    private static (ModelRecord, IReadOnlyList<string>?) ParseV2(byte[] payload)
    {
        var r = new Reader(payload);
        var body = ReadModel(r, 0);
        int classCount = r.Count(1_000_000, "class-name count");
        if (classCount > r.Remaining / 4) throw new InvalidDataException($"{classCount} class names need more bytes than the {r.Remaining} that remain");
        var classes = new string[classCount];
        for (int i = 0; i < classCount; i++) classes[i] = r.String();
        CompiledRecord? compiled = null;
        if (!r.AtEnd && r.Byte() == 1)
        {
            var opt = ReadEntry(r);
            var loss = ReadEntry(r);
            int nm = r.Count(64, "metric count");
            var ms = new CompileConfig.Entry[nm];
            for (int i = 0; i < nm; i++) ms[i] = ReadEntry(r);
            compiled = new CompiledRecord(opt, loss, ms);
        }
        if (!r.AtEnd) throw new InvalidDataException($"{r.Remaining} unexpected bytes after the compile configuration");
        return (body with { Compiled = compiled }, classCount > 0 ? classes : null);
    }

    private static CompileConfig.Entry ReadEntry(Reader r)
    {
        string type = r.String();
        int n = r.Count(64, "compile entry count");
        var cfg = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++) cfg[r.String()] = r.String();
        return new CompileConfig.Entry(type, cfg);
    }

    private static ModelRecord ReadModel(Reader r, int depth)
    {
        if (depth > MaxDepth) throw new InvalidDataException($"models are nested more than {MaxDepth} levels deep");
        string kind = r.String();
        if (kind is not ("Sequential" or "Functional")) throw new InvalidDataException($"unknown model kind '{kind}'");
        string name = r.String();
        bool trainable = r.Byte() != 0;
        int[] input = r.Dims(3);
        int layerCount = r.Count(MaxLayers, "layer count");
        if (layerCount > r.Remaining / 16) throw new InvalidDataException($"layer count {layerCount} needs more bytes than the {r.Remaining} that remain");
        var layers = new List<LayerRecord>(layerCount);
        for (int i = 0; i < layerCount; i++)
        {
            var (type, lname, ltrainable, cfg, tensors) = ReadLayerCore(r);
            int nin = r.Count(64, $"inbound count of layer '{lname}'");
            var inbound = new int[nin];
            for (int k = 0; k < nin; k++)
            {
                inbound[k] = r.Int();
                if (inbound[k] < -1 || inbound[k] >= i)
                    throw new InvalidDataException($"layer '{lname}' refers to layer #{inbound[k]}, which does not precede it (a dangling node reference)");
                if (kind == "Sequential" && inbound[k] != i - 1)
                    throw new InvalidDataException($"layer '{lname}' of Sequential model '{name}' is not connected to the layer before it");
            }
            int training = r.Byte();
            if (training > 2) throw new InvalidDataException($"layer '{lname}' has an invalid training flag {training}");
            ModelRecord? nested = type is "Functional" or "Sequential" ? ReadModel(r, depth + 1) : null;
            if (nested is not null && tensors.Count > 0) throw new InvalidDataException($"nested model '{lname}' stores tensors outside its layers");
            layers.Add(new LayerRecord(type, lname, ltrainable, cfg, tensors, inbound, training switch { 1 => false, 2 => true, _ => null }, nested));
        }
        int output = r.Int();
        if (output < -1 || output >= layerCount) throw new InvalidDataException($"the output layer #{output} of model '{name}' does not exist");
        return new ModelRecord(kind, name, trainable, input, layers, output);
    }

    private static (string Type, string Name, bool Trainable, Dictionary<string, string> Config, List<TensorRecord> Tensors) ReadLayerCore(Reader r)
    {
        string type = r.String(), lname = r.String();
        bool trainable = r.Byte() != 0;
        int nc = r.Count(64, "config entry count");
        var cfg = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int c = 0; c < nc; c++) cfg[r.String()] = r.String();
        int nt = r.Count(16, "tensor count");
        var tensors = new List<TensorRecord>(nt);
        for (int t = 0; t < nt; t++)
        {
            string tn = r.String();
            int[] dims = r.Dims(4);
            long count = 1;
            foreach (int d in dims)
            {
                count *= d;   // each d ≤ int.MaxValue and we stop once count exceeds the payload, so this cannot overflow
                if (count > r.Remaining / 4) throw new InvalidDataException($"tensor '{tn}' of shape {Shape.Format(dims)} needs more bytes than the {r.Remaining} that remain");
            }
            tensors.Add(new TensorRecord(tn, dims, r.Floats(count)));
        }
        return (type, lname, trainable, cfg, tensors);
    }

    private sealed class Reader(byte[] data)
    {
        private int _pos;
        public long Remaining => data.Length - _pos;
        public bool AtEnd => _pos == data.Length;

        private ReadOnlySpan<byte> Take(long n, string what)
        {
            if (n < 0 || n > Remaining) throw new InvalidDataException($"truncated or corrupt payload: {what} needs {n} bytes at offset {_pos}, {Remaining} remain");
            var s = data.AsSpan(_pos, (int)n);
            _pos += (int)n;
            return s;
        }

        public byte Byte() => Take(1, "a flag")[0];
        public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4, "an integer"));

        public int Count(int max, string what)
        {
            int n = Int();
            if (n < 0 || n > max) throw new InvalidDataException($"{what} {n} is outside 0..{max}");
            return n;
        }

        public string String()
        {
            int n = Count(MaxString, "string length");
            return Encoding.UTF8.GetString(Take(n, "a string"));
        }

        public int[] Dims(int maxRank)
        {
            int rank = Count(maxRank, "rank");
            if (rank == 0) throw new InvalidDataException("rank 0 is invalid");
            var d = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                d[i] = Int();
                if (d[i] <= 0) throw new InvalidDataException($"dimension {d[i]} is not positive");
            }
            return d;
        }

        public float[] Floats(long count)
        {
            // Validate against the remaining bytes BEFORE allocating.
            if (count > Remaining / 4) throw new InvalidDataException($"a tensor declares {count} values but only {Remaining} bytes remain");
            var bytes = Take(count * 4, "tensor data");
            var f = new float[count];
            for (int i = 0; i < f.Length; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
            return f;
        }
    }
}
