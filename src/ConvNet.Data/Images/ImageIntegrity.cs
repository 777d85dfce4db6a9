using System.Buffers.Binary;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;

namespace ConvNet.Data;

/// <summary>
/// Structural completeness checks run before decoding. ImageSharp quietly fills in missing data of a
/// truncated file, while TensorFlow's decoders (libpng, libjpeg without <c>try_recover_truncated</c>,
/// giflib, its BMP reader) reject it; these checks make a truncated file a bad file here too.
/// </summary>
internal static class ImageIntegrity
{
    /// <summary>Returns why the file is incomplete, or null if its structure is complete.</summary>
    public static string? FindTruncation(ReadOnlySpan<byte> data, IImageFormat format) => format switch
    {
        PngFormat => CheckPng(data),
        JpegFormat => CheckJpeg(data),
        GifFormat => CheckGif(data),
        BmpFormat => CheckBmp(data),
        _ => null,
    };

    /// <summary>Walks the chunks after the signature; the file must reach an IEND chunk.</summary>
    private static string? CheckPng(ReadOnlySpan<byte> d)
    {
        long pos = 8;
        while (pos + 8 <= d.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d[(int)pos..]);
            string type = System.Text.Encoding.ASCII.GetString(d.Slice((int)pos + 4, 4));
            long end = pos + 12 + length;
            if (end > d.Length)
                return $"truncated PNG: chunk {type} at byte {pos:N0} needs {length:N0} data bytes but the file ends at byte {d.Length:N0}";
            if (type == "IEND") return null;
            pos = end;
        }
        return $"truncated PNG: no IEND chunk before the end of the file ({d.Length:N0} bytes)";
    }

    /// <summary>Walks the marker segments and entropy-coded data; the file must reach an EOI marker.</summary>
    private static string? CheckJpeg(ReadOnlySpan<byte> d)
    {
        int pos = 2; // after SOI
        while (pos + 1 < d.Length)
        {
            if (d[pos] != 0xFF) return $"corrupt JPEG: expected a marker at byte {pos:N0}";
            byte marker = d[pos + 1];
            if (marker == 0xFF) { pos++; continue; }              // fill byte
            if (marker == 0xD9) return null;                        // EOI
            if (marker is >= 0xD0 and <= 0xD7 || marker == 0x01) { pos += 2; continue; } // RSTn, TEM: no length
            if (pos + 3 >= d.Length) break;
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[(pos + 2)..]);
            int next = pos + 2 + length;
            if (length < 2 || next > d.Length)
                return $"truncated JPEG: segment 0xFF{marker:X2} at byte {pos:N0} needs {length:N0} bytes but the file ends at byte {d.Length:N0}";
            pos = next;
            if (marker == 0xDA)                                     // SOS: skip entropy-coded data up to the next real marker
            {
                while (pos + 1 < d.Length && !(d[pos] == 0xFF && d[pos + 1] != 0x00 && d[pos + 1] is not (>= 0xD0 and <= 0xD7)))
                    pos++;
            }
        }
        return $"truncated JPEG: no end-of-image marker (FFD9) before the end of the file ({d.Length:N0} bytes)";
    }

    /// <summary>Walks the blocks after the header; the file must reach the trailer (0x3B).</summary>
    private static string? CheckGif(ReadOnlySpan<byte> d)
    {
        if (d.Length < 13) return $"truncated GIF: {d.Length} bytes is shorter than the 13-byte header";
        int pos = 13;
        byte flags = d[10];
        if ((flags & 0x80) != 0) pos += 3 << ((flags & 7) + 1);
        while (pos < d.Length)
        {
            byte block = d[pos];
            if (block == 0x3B) return null;
            if (block == 0x21)
            {
                pos += 2;
            }
            else if (block == 0x2C)
            {
                if (pos + 10 > d.Length) break;
                byte local = d[pos + 9];
                pos += 10;
                if ((local & 0x80) != 0) pos += 3 << ((local & 7) + 1);
                pos += 1; // LZW minimum code size
            }
            else
            {
                return $"corrupt GIF: unknown block 0x{block:X2} at byte {pos:N0}";
            }
            while (pos < d.Length && d[pos] != 0) pos += d[pos] + 1; // data sub-blocks
            if (pos >= d.Length) break;
            pos++; // block terminator
        }
        return $"truncated GIF: no trailer (0x3B) before the end of the file ({d.Length:N0} bytes)";
    }

    /// <summary>For uncompressed BMPs, the file must hold every pixel row (TensorFlow checks the same).</summary>
    private static string? CheckBmp(ReadOnlySpan<byte> d)
    {
        if (d.Length < 34) return $"truncated BMP: {d.Length} bytes is shorter than the headers";
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(d[10..]);
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(d[14..]);
        if (headerSize < 40) return null; // OS/2 core header: leave it to the decoder
        long width = BinaryPrimitives.ReadInt32LittleEndian(d[18..]);
        long height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(d[22..]));
        int bpp = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]);
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(d[30..]);
        if (compression is not (0 or 3 or 6)) return null; // RLE/JPEG/PNG payloads: the decoder checks them
        long rowBytes = (bpp * width + 31) / 32 * 4;
        long needed = offset + rowBytes * height;
        return needed > d.Length
            ? $"truncated BMP: {width}×{height} at {bpp} bits needs {needed:N0} bytes but the file has {d.Length:N0}"
            : null;
    }
}
