using System.Buffers.Binary;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Data.Tests;

/// <summary>A temporary directory deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "convnet-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Creates small test images and archives.</summary>
internal static class TestImages
{
    /// <summary>A width×height image filled by <paramref name="pixel"/>(x, y).</summary>
    public static Image<Rgba32> Create(int width, int height, Func<int, int, Rgba32> pixel)
    {
        var img = new Image<Rgba32>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                img[x, y] = pixel(x, y);
        return img;
    }

    /// <summary>Encodes an image in the format given by the file extension.</summary>
    public static byte[] Encode(Image<Rgba32> img, string extension)
    {
        using var ms = new MemoryStream();
        switch (extension.ToLowerInvariant())
        {
            case ".png": img.Save(ms, new PngEncoder { ColorType = PngColorType.RgbWithAlpha }); break;
            case ".jpg" or ".jpeg": img.Save(ms, new JpegEncoder { Quality = 100 }); break;
            case ".bmp": img.Save(ms, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel32, SupportTransparency = false }); break;
            case ".gif": img.Save(ms, new GifEncoder()); break;
            default: throw new ArgumentException(extension);
        }
        return ms.ToArray();
    }

    /// <summary>Writes a solid-colour image file (format from the extension), creating folders.</summary>
    public static string WriteSolid(string path, int width, int height, Rgba32 color)
    {
        using var img = Create(width, height, (_, _) => color);
        return Write(path, img);
    }

    /// <summary>Writes an image file (format from the extension), creating folders.</summary>
    public static string Write(string path, Image<Rgba32> img)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Encode(img, System.IO.Path.GetExtension(path)));
        return path;
    }

    /// <summary>An 8-bit grayscale PNG whose pixels are the given values (row-major).</summary>
    public static byte[] GrayPng(int width, int height, byte[] values)
    {
        using var img = new Image<L8>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                img[x, y] = new L8(values[y * width + x]);
        using var ms = new MemoryStream();
        img.Save(ms, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });
        return ms.ToArray();
    }

    /// <summary>
    /// A hand-made PNG: signature, an IHDR declaring <paramref name="width"/>×<paramref name="height"/> 8-bit gray,
    /// a tiny (valid but far too short) IDAT and IEND, all with correct CRCs.
    /// </summary>
    public static byte[] PngWithHeader(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 0;  // colour type: grayscale
        WriteChunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
                zs.Write(new byte[] { 0, 0, 0, 0 });
            WriteChunk(ms, "IDAT", z.ToArray());
        }
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeAndData = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) typeAndData[i] = (byte)type[i];
        data.CopyTo(typeAndData, 4);
        s.Write(typeAndData);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        s.Write(crc);
    }

    /// <summary>The CRC-32 used by PNG (and zip).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>Builds a zip from (entry name, content) pairs; a null content makes a directory entry.</summary>
    public static void WriteZip(string zipPath, IEnumerable<(string Name, byte[]? Content)> entries)
    {
        using var fs = File.Create(zipPath);
        using var zip = new ZipArchive(fs, ZipArchiveMode.Create);
        foreach (var (name, content) in entries)
        {
            var e = zip.CreateEntry(name);
            if (content is null) continue;
            using var s = e.Open();
            s.Write(content);
        }
    }
}
