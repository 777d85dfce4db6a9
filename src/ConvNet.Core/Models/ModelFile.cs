using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ConvNet;

/// <summary>
/// The ConvNet model file, format version 1 (little-endian):
/// <code>
/// header   8 B  magic 89 43 4E 45 54 0D 0A 1A ("\x89CNET\r\n\x1A")
///          4 B  format version (uint32) = 1
///          8 B  payload length (uint64)
///          4 B  reserved = 0
/// payload       string model name; int32 input rank, int32 dims…; int32 layer count;
///               per layer: string type, string name, byte trainable, int32 n, n × (string key, string value),
///                          int32 tensor count, per tensor: string name, int32 rank, int32 dims…, float32 data
/// trailer 32 B  SHA-256 of the payload
/// </code>
/// Strings are int32 byte length (≤ 4096) + UTF-8. Loading validates every size against the bytes that
/// remain before allocating, checks the hash, and only constructs the known layer types; it never runs code from the file.
/// </summary>
public static class ModelFile
{
    /// <summary>The format version this build writes and the newest it reads.</summary>
    public const uint FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => [0x89, (byte)'C', (byte)'N', (byte)'E', (byte)'T', 0x0D, 0x0A, 0x1A];
    private const int HeaderSize = 24, HashSize = 32, MaxString = 4096;

    /// <summary>Writes the model atomically: a temporary file in the same folder is written, flushed and renamed over <paramref name="path"/>.</summary>
    public static void Save(Sequential model, string path) => Save(model, path, null);

    internal static void Save(Sequential model, string path, Action<Stream>? beforeCommit)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!model.IsBuilt) throw new InvalidOperationException($"Model '{model.Name}' is not built; nothing to save.");
        var payload = WritePayload(model);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
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

    private static byte[] WritePayload(Sequential model)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        WriteString(w, model.Name);
        w.Write(model.InputShape!.Count);
        foreach (int d in model.InputShape) w.Write(d);
        var layers = model.Layers;
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
            w.Write(l.Parameters.Count);
            foreach (var p in l.Parameters)
            {
                WriteString(w, p.Name);
                var dims = p.Value.Shape.ToArray();
                w.Write(dims.Length);
                foreach (int d in dims) w.Write(d);
                foreach (float f in p.Value.Span) w.Write(f);
            }
        }
        w.Flush();
        return ms.ToArray();
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (b.Length > MaxString) throw new ArgumentException($"String '{s[..32]}…' is longer than {MaxString} bytes.");
        w.Write(b.Length);
        w.Write(b);
    }

    /// <summary>Reads a model file and recreates the model (architecture and weights).</summary>
    /// <exception cref="InvalidDataException">The file is truncated, not a model file, corrupt, or from a newer format; the message names the file.</exception>
    public static Sequential Load(string path)
    {
        var (name, input, layers) = Read(path);
        var model = new Sequential { Name = name };
        IReadOnlyList<int> shape = input;
        foreach (var rec in layers)
        {
            Layer layer;
            try { layer = LayerFactory.Create(rec.Type, rec.Name, rec.Config, input); }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or KeyNotFoundException)
            { throw Bad(path, $"layer '{rec.Name}' of type '{rec.Type}' has an invalid configuration: {e.Message}"); }
            layer.Trainable = rec.Trainable;
            try
            {
                // Check the parameter shapes the configuration implies against the stored tensors BEFORE anything is allocated.
                var next = layer.ComputeOutputShape(shape);   // validates the input shape first
                var expected = layer.ParameterShapes(shape);
                if (expected.Length != rec.Tensors.Count)
                    throw Bad(path, $"layer '{rec.Name}' ({rec.Type}) stores {rec.Tensors.Count} tensors but its configuration needs {expected.Length}");
                for (int j = 0; j < expected.Length; j++)
                    if (!expected[j].SequenceEqual(rec.Tensors[j].Dims))
                        throw Bad(path, $"layer '{rec.Name}' ({rec.Type}) {rec.Tensors[j].Name}: its configuration needs shape {Shape.Format(expected[j])}, the file has {Shape.Format(rec.Tensors[j].Dims)}");
                shape = next;
                model.Add(layer);
            }
            catch (ArgumentException e)
            { throw Bad(path, $"layer '{rec.Name}' ({rec.Type}) does not fit the architecture (input {Layer.Fmt(input, true)}): {e.Message}"); }
        }
        try { model.Build(input); }
        catch (ArgumentException e) { throw Bad(path, $"the architecture does not fit its input shape {Layer.Fmt(input, true)}: {e.Message}"); }
        Fill(model, layers, path);
        return model;
    }

    /// <summary>Loads only the weights into an existing, built model with the same layers; names the layer whose shape differs.</summary>
    public static void LoadWeights(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (_, input, layers) = Read(path);
        if (!model.IsBuilt) model.Build(input);
        Fill(model, layers, path);
    }

    private static void Fill(Sequential model, List<LayerRecord> records, string path)
    {
        var withParams = model.Layers.Where(l => l.Parameters.Count > 0).ToList();
        var recs = records.Where(r => r.Tensors.Count > 0).ToList();
        if (withParams.Count != recs.Count)
            throw Bad(path, $"it has weights for {recs.Count} layers but model '{model.Name}' has {withParams.Count} layers with weights");
        // Validate every shape first so that a mismatch changes nothing.
        for (int i = 0; i < recs.Count; i++)
        {
            var l = withParams[i]; var r = recs[i];
            if (l.Parameters.Count != r.Tensors.Count)
                throw Bad(path, $"layer '{r.Name}' has {r.Tensors.Count} tensors but model layer '{l.Name}' ({l.TypeName}) has {l.Parameters.Count}");
            for (int j = 0; j < r.Tensors.Count; j++)
                if (!l.Parameters[j].Value.Shape.ToArray().SequenceEqual(r.Tensors[j].Dims))
                    throw Bad(path, $"layer '{l.Name}' ({l.TypeName}) {l.Parameters[j].Name}: the model has shape {l.Parameters[j].Value.Shape}, the file has {Shape.Format(r.Tensors[j].Dims)}");
        }
        for (int i = 0; i < recs.Count; i++)
            for (int j = 0; j < recs[i].Tensors.Count; j++)
                recs[i].Tensors[j].Data.CopyTo(withParams[i].Parameters[j].Value.Span);
    }

    private sealed record TensorRecord(string Name, int[] Dims, float[] Data);
    private sealed record LayerRecord(string Type, string Name, bool Trainable, Dictionary<string, string> Config, List<TensorRecord> Tensors);

    private static InvalidDataException Bad(string path, string why) => new($"Model file '{path}': {why}.");

    private static (string Name, int[] Input, List<LayerRecord> Layers) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
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
        try { return Parse(payload); }
        catch (InvalidDataException e) { throw Bad(path, e.Message); }
    }

    private static (string, int[], List<LayerRecord>) Parse(byte[] payload)
    {
        var r = new Reader(payload);
        string name = r.String();
        int[] input = r.Dims(3);
        int layerCount = r.Count(1000, "layer count");
        var layers = new List<LayerRecord>(layerCount);
        for (int i = 0; i < layerCount; i++)
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
            layers.Add(new LayerRecord(type, lname, trainable, cfg, tensors));
        }
        if (!r.AtEnd) throw new InvalidDataException($"{r.Remaining} unexpected bytes after the last layer");
        return (name, input, layers);
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
