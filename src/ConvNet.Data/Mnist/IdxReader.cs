using System.Buffers.Binary;
using System.IO.Compression;
using ConvNet.IO;

namespace ConvNet.Data;

/// <summary>Sequential, validating reader for one IDX file (raw or gzip).</summary>
internal sealed class IdxReader : IDisposable
{
    private readonly string _path;
    private readonly Stream _stream;
    private readonly bool _gzip;
    private readonly long _fileLength;
    private long _position;

    private IdxReader(string path, Stream stream, bool gzip, long fileLength)
    {
        _path = path;
        _stream = stream;
        _gzip = gzip;
        _fileLength = fileLength;
    }

    public static IdxReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = SafeFile.OpenRead(path, "IDX file");   // refuses directories, FIFOs and devices
        try
        {
            int b0 = file.ReadByte(), b1 = file.ReadByte();
            file.Position = 0;
            bool gzip = b0 == 0x1F && b1 == 0x8B;
            Stream s = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            return new IdxReader(path, s, gzip, file.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private string Describe => _gzip ? $"gzip IDX file \"{_path}\"" : $"IDX file \"{_path}\"";

    private void ReadExactly(Span<byte> buffer, string what)
    {
        int read;
        try
        {
            read = _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{Describe} is corrupt while reading {what} at byte {_position:N0}: {e.Message}", e);
        }
        if (read < buffer.Length)
            throw new InvalidDataException($"{Describe} is truncated: expected {buffer.Length:N0} bytes of {what} at byte {_position:N0}, got {read:N0}.");
        _position += read;
    }

    public void ExpectMagic(int magic, string kind)
    {
        Span<byte> b = stackalloc byte[4];
        ReadExactly(b, "the magic number");
        int actual = BinaryPrimitives.ReadInt32BigEndian(b);
        if (actual != magic)
        {
            string hint = actual switch
            {
                Idx.ImagesMagic => " (this is an images file)",
                Idx.LabelsMagic => " (this is a labels file)",
                _ => "",
            };
            throw new InvalidDataException($"{Describe} is not an IDX {kind} file: magic number 0x{actual:X8}{hint}, expected 0x{magic:X8}.");
        }
    }

    public int ReadDimension(string name, bool allowZero)
    {
        Span<byte> b = stackalloc byte[4];
        ReadExactly(b, name);
        int d = BinaryPrimitives.ReadInt32BigEndian(b);
        if (d < 0 || (d == 0 && !allowZero))
            throw new InvalidDataException($"{Describe} declares {name} = {d}; expected a positive number.");
        return d;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes and checks nothing follows.</summary>
    public byte[] ReadPayload(long length, string what)
    {
        var data = new byte[CheckPayload(length, what)];
        ReadExactly(data, what);
        CheckEnd(what);
        return data;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes as floats (0–255) in chunks, without a byte copy of the payload.</summary>
    public float[] ReadPayloadAsFloats(long length, string what)
    {
        var data = new float[CheckPayload(length, what)];
        var chunk = new byte[Math.Min(data.Length, 1 << 16)];
        for (int done = 0; done < data.Length;)
        {
            int n = Math.Min(chunk.Length, data.Length - done);
            ReadExactly(chunk.AsSpan(0, n), what);
            for (int i = 0; i < n; i++) data[done + i] = chunk[i];
            done += n;
        }
        CheckEnd(what);
        return data;
    }

    private int CheckPayload(long length, string what)
    {
        if (!_gzip)
        {
            long expected = _position + length;
            if (_fileLength != expected)
                throw new InvalidDataException($"{Describe} should be {expected:N0} bytes ({_position} header + {what}) but is {_fileLength:N0} bytes{(_fileLength < expected ? " (truncated)" : " (trailing data)")}.");
        }
        else if (length > Idx.MaxGzipPayloadBytes)
        {
            throw new InvalidDataException($"{Describe} declares {what} = {length:N0} bytes, more than the gzip limit of {Idx.MaxGzipPayloadBytes:N0}.");
        }
        if (length > Array.MaxLength)
            throw new InvalidDataException($"{Describe} declares {what} = {length:N0} bytes, more than one array can hold.");
        return (int)length;
    }

    private void CheckEnd(string what)
    {
        if (_gzip)
        {
            int extra;
            try { extra = _stream.ReadByte(); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{Describe} is corrupt after the data: {e.Message}", e); }
            if (extra >= 0)
                throw new InvalidDataException($"{Describe} has trailing data after {what} (more than {_position:N0} decompressed bytes).");
        }
    }

    /// <summary>
    /// Throws before any allocation if the result would need more than <paramref name="limit"/> bytes of memory
    /// (<paramref name="elements"/> × <paramref name="bytesPerElement"/>, so a byte payload read as float32 counts 4 bytes per value).
    /// </summary>
    public void CheckMemory(long elements, int bytesPerElement, long limit, string what)
    {
        long bytes = elements * bytesPerElement;
        if (bytes > limit)
            throw new InvalidDataException($"{Describe} declares {what}, which needs {bytes:N0} bytes of memory ({elements:N0} values × {bytesPerElement} bytes), " +
                                           $"more than the limit of {limit:N0} bytes (IdxReadOptions.MaxBytes; raise it to load larger files).");
    }

    public void Dispose() => _stream.Dispose();
}
