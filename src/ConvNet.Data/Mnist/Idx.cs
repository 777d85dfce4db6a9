using System.Buffers.Binary;
using System.IO.Compression;

namespace ConvNet.Data;

/// <summary>
/// Reads and writes the IDX files that MNIST (and Fashion-MNIST) are distributed in, raw or gzip-compressed
/// (recognised by the gzip signature <c>1F 8B</c>, not by the name). Images: magic <c>0x00000803</c>
/// (unsigned bytes, 3 dimensions) then count, rows, columns as big-endian int32, then the pixels.
/// Labels: magic <c>0x00000801</c> then count, then one byte per label. Everything is validated before
/// the big allocation; errors name the file and say what was expected.
/// </summary>
public static class Idx
{
    /// <summary>Magic number of an IDX file of unsigned bytes with 3 dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned bytes with 1 dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Largest payload accepted from a gzip file, whose true size is unknown until decompressed (1 GiB).</summary>
    public const long MaxGzipPayloadBytes = 1L << 30;

    /// <summary>Reads an images file as an (N, rows, cols, 1) float tensor with values 0–255.</summary>
    /// <param name="path">A <c>*-images-idx3-ubyte</c> file, raw or gzip.</param>
    /// <param name="options">Limits; null means <see cref="IdxReadOptions.Default"/>. The declared size is checked against
    /// <see cref="IdxReadOptions.MaxBytes"/> at 4 bytes per pixel (float32) before anything is allocated.</param>
    /// <exception cref="InvalidDataException">Wrong magic, bad dimensions, wrong size, truncated data, or over the memory limit.</exception>
    /// <exception cref="IOException">The path is a directory, FIFO or device (only regular files are read).</exception>
    public static Tensor ReadImages(string path, IdxReadOptions? options = null)
    {
        options ??= IdxReadOptions.Default;
        using var reader = IdxReader.Open(path);
        var (count, rows, cols, payload) = ReadImagesHeader(reader, path);
        reader.CheckMemory(payload, sizeof(float), options.MaxBytes, $"{count:N0} images of {rows}×{cols} pixels read as float32");
        float[] data = reader.ReadPayloadAsFloats(payload, $"{count:N0} images of {rows}×{cols} pixels");
        return new Tensor(data, count, rows, cols, 1);
    }

    private static (int Count, int Rows, int Cols, long Payload) ReadImagesHeader(IdxReader reader, string path)
    {
        reader.ExpectMagic(ImagesMagic, "images");
        int count = reader.ReadDimension("image count", allowZero: false);
        int rows = reader.ReadDimension("rows", allowZero: false);
        int cols = reader.ReadDimension("columns", allowZero: false);
        long payload = (long)count * rows * cols;
        if (payload > Array.MaxLength)
            throw new InvalidDataException($"IDX file \"{path}\" declares {count:N0} images of {rows}×{cols} = {payload:N0} bytes, more than one array can hold.");
        return (count, rows, cols, payload);
    }

    /// <summary>Reads an images file's raw pixels (N·rows·cols bytes, row-major) and its dimensions.</summary>
    /// <param name="path">A <c>*-images-idx3-ubyte</c> file, raw or gzip.</param>
    /// <param name="count">Number of images.</param>
    /// <param name="rows">Rows per image.</param>
    /// <param name="cols">Columns per image.</param>
    /// <param name="options">Limits; null means <see cref="IdxReadOptions.Default"/> (1 byte per pixel counts against <see cref="IdxReadOptions.MaxBytes"/>).</param>
    /// <exception cref="InvalidDataException">Wrong magic, bad dimensions, wrong size, truncated data, or over the memory limit.</exception>
    /// <exception cref="IOException">The path is a directory, FIFO or device (only regular files are read).</exception>
    public static byte[] ReadImageBytes(string path, out int count, out int rows, out int cols, IdxReadOptions? options = null)
    {
        options ??= IdxReadOptions.Default;
        using var reader = IdxReader.Open(path);
        long payload;
        (count, rows, cols, payload) = ReadImagesHeader(reader, path);
        reader.CheckMemory(payload, sizeof(byte), options.MaxBytes, $"{count:N0} images of {rows}×{cols} pixels");
        return reader.ReadPayload(payload, $"{count:N0} images of {rows}×{cols} pixels");
    }

    /// <summary>Reads a labels file as one integer per sample.</summary>
    /// <param name="path">A <c>*-labels-idx1-ubyte</c> file, raw or gzip.</param>
    /// <param name="options">Limits; null means <see cref="IdxReadOptions.Default"/> (5 bytes per label — the byte read and
    /// the int returned — count against <see cref="IdxReadOptions.MaxBytes"/>).</param>
    /// <exception cref="InvalidDataException">Wrong magic, wrong size, truncated data, or over the memory limit.</exception>
    /// <exception cref="IOException">The path is a directory, FIFO or device (only regular files are read).</exception>
    public static int[] ReadLabels(string path, IdxReadOptions? options = null)
    {
        options ??= IdxReadOptions.Default;
        using var reader = IdxReader.Open(path);
        reader.ExpectMagic(LabelsMagic, "labels");
        int count = reader.ReadDimension("label count", allowZero: false);
        reader.CheckMemory(count, sizeof(byte) + sizeof(int), options.MaxBytes, $"{count:N0} labels");
        byte[] bytes = reader.ReadPayload(count, $"{count:N0} labels");
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = bytes[i];
        return labels;
    }

    /// <summary>Writes an images file (gzip-compressed when the path ends in <c>.gz</c>).</summary>
    /// <param name="path">Output file.</param>
    /// <param name="pixels">count·rows·cols bytes, row-major.</param>
    /// <param name="count">Number of images.</param>
    /// <param name="rows">Rows per image.</param>
    /// <param name="cols">Columns per image.</param>
    /// <exception cref="ArgumentException">The pixel count does not match the dimensions.</exception>
    public static void WriteImages(string path, ReadOnlySpan<byte> pixels, int count, int rows, int cols)
    {
        if (count < 0 || rows <= 0 || cols <= 0 || (long)count * rows * cols != pixels.Length)
            throw new ArgumentException($"{pixels.Length} pixel bytes do not match {count} images of {rows}×{cols} for \"{path}\".", nameof(pixels));
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], count);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], rows);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], cols);
        Write(path, header, pixels);
    }

    /// <summary>Writes a labels file (gzip-compressed when the path ends in <c>.gz</c>).</summary>
    /// <param name="path">Output file.</param>
    /// <param name="labels">One byte per label.</param>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], labels.Length);
        Write(path, header, labels);
    }

    private static void Write(string path, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.Create(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Optimal)
            : file;
        s.Write(header);
        s.Write(payload);
    }
}
