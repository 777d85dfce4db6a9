using System.Runtime.InteropServices;

namespace ConvNet.IO;

/// <summary>
/// Opens only regular files, so a named pipe (FIFO), a device such as <c>/dev/zero</c>, a socket or a directory
/// passed where a file is expected fails at once with a message naming the path, instead of blocking forever or
/// reading without end. Symbolic links are followed and judged by their target. Reads are capped, so the limit
/// also holds for a stream whose length is unknown.
/// </summary>
/// <remarks>
/// The check runs just before the file is opened; a file swapped for a FIFO in between is not caught (reads stay
/// capped). On Unix the file type comes from <c>stat(2)</c>; elsewhere only directories are told apart.
/// </remarks>
public static class SafeFile
{
    /// <summary>The type of a file system entry, as far as <see cref="SafeFile"/> distinguishes them.</summary>
    private enum Kind { Missing, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Other }

    /// <summary>
    /// Throws unless <paramref name="path"/> is an existing regular file (or a link to one).
    /// </summary>
    /// <param name="path">The path to check.</param>
    /// <param name="what">How messages name the file, e.g. <c>"Model file"</c> or <c>"Image"</c>.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="IOException">The path is a directory, FIFO, device, socket or another non-regular file; the message says which.</exception>
    public static void EnsureRegularFile(string path, string what = "File")
    {
        ArgumentNullException.ThrowIfNull(what);
        if (WhyNotRegular(path) is not { } why) return;
        string message = $"{what} \"{path}\" {why}.";
        throw why.StartsWith("does not exist", StringComparison.Ordinal) ? new FileNotFoundException(message, path) : new IOException(message);
    }

    /// <summary>
    /// Null if <paramref name="path"/> is a regular file (or a link to one); otherwise why not, as a phrase that follows
    /// the path: <c>is a directory, not a file</c>, <c>is a named pipe (FIFO), not a regular file; …</c>, <c>does not exist</c>.
    /// </summary>
    /// <param name="path">The path to check.</param>
    public static string? WhyNotRegular(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var kind = KindOf(path);
        return kind switch
        {
            Kind.Regular => null,
            Kind.Missing => $"does not exist (resolved: \"{Path.GetFullPath(path)}\")",
            Kind.Directory => "is a directory, not a file",
            _ => $"is {Describe(kind)}, not a regular file; only regular files are read",
        };
    }

    /// <summary>
    /// Throws if <paramref name="path"/> exists but is not a regular file (a directory, FIFO, device …), so a file
    /// can be written there. A missing path is fine.
    /// </summary>
    /// <param name="path">The file about to be written.</param>
    /// <param name="what">How messages name the file.</param>
    /// <exception cref="IOException">Something other than a regular file is at the path.</exception>
    public static void EnsureWritableTarget(string path, string what = "File")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(what);
        var kind = KindOf(path);
        if (kind is Kind.Missing or Kind.Regular) return;
        throw new IOException(kind == Kind.Directory
            ? $"{what} \"{path}\" is a directory; give a file name."
            : $"{what} \"{path}\" is {Describe(kind)}; give the path of a regular file.");
    }

    /// <summary>Opens a regular file for reading (after <see cref="EnsureRegularFile"/>).</summary>
    /// <param name="path">The file.</param>
    /// <param name="what">How messages name the file.</param>
    /// <returns>A read-only, seekable stream.</returns>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="IOException">The path is not a regular file.</exception>
    public static FileStream OpenRead(string path, string what = "File")
    {
        EnsureRegularFile(path, what);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.SequentialScan);
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The largest accepted size.</param>
    /// <param name="what">How messages name the file.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="IOException">The path is not a regular file.</exception>
    /// <exception cref="InvalidDataException">The file is larger than <paramref name="maxBytes"/>.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what = "File")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        using var stream = OpenRead(path, what);
        long length = stream.Length;
        if (length > maxBytes)
            throw new InvalidDataException($"{what} \"{path}\" is {length:N0} bytes, more than the limit of {maxBytes:N0} bytes.");
        return ReadAtMost(stream, maxBytes, $"{what} \"{path}\"");
    }

    /// <summary>
    /// Reads a stream to its end, but never more than <paramref name="maxBytes"/> bytes: works for streams of
    /// unknown length (pipes, decompressors, devices), where a length check is not possible.
    /// </summary>
    /// <param name="stream">The stream, read from its current position.</param>
    /// <param name="maxBytes">The largest accepted number of bytes.</param>
    /// <param name="description">Names the source in the error message, e.g. <c>Image "a.png"</c>.</param>
    /// <exception cref="InvalidDataException">The stream holds more than <paramref name="maxBytes"/> bytes.</exception>
    public static byte[] ReadAtMost(Stream stream, long maxBytes, string description)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        long hint = 0;
        if (stream.CanSeek)
        {
            try { hint = Math.Max(0, stream.Length - stream.Position); } catch (NotSupportedException) { }
        }
        long cap = Math.Min(maxBytes, Array.MaxLength - 1L);
        var buffer = new byte[(int)Math.Min(Math.Max(hint, 4096), cap + 1)];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled > cap)
                    throw new InvalidDataException($"{description} holds more than the limit of {maxBytes:N0} bytes.");
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, cap + 1));
            }
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) break;
            filled += n;
        }
        if (filled > cap)
            throw new InvalidDataException($"{description} holds more than the limit of {maxBytes:N0} bytes.");
        if (filled != buffer.Length) Array.Resize(ref buffer, filled);
        return buffer;
    }

    private static string Describe(Kind kind) => kind switch
    {
        Kind.Fifo => "a named pipe (FIFO)",
        Kind.CharacterDevice => "a character device",
        Kind.BlockDevice => "a block device",
        Kind.Socket => "a socket",
        _ => "not a regular file",
    };

    private static Kind KindOf(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                if (Native.Stat(path, out var status) != 0)
                    return Directory.Exists(path) ? Kind.Directory : File.Exists(path) ? Kind.Other : Kind.Missing;
                return (status.Mode & Native.TypeMask) switch
                {
                    Native.Regular => Kind.Regular,
                    Native.Directory => Kind.Directory,
                    Native.Fifo => Kind.Fifo,
                    Native.CharacterDevice => Kind.CharacterDevice,
                    Native.BlockDevice => Kind.BlockDevice,
                    Native.Socket => Kind.Socket,
                    _ => Kind.Other,
                };
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // fall through to the portable check
            }
        }
        if (Directory.Exists(path)) return Kind.Directory;
        return File.Exists(path) ? Kind.Regular : Kind.Missing;
    }

    /// <summary>
    /// <c>stat(2)</c> through the .NET runtime's own native shim (<c>libSystem.Native</c>, which <c>System.IO</c> uses),
    /// whose <c>FileStatus</c> starts with two int32 fields, Flags and Mode, and whose S_IF* constants are the same on every Unix.
    /// </summary>
    private static class Native
    {
        public const int TypeMask = 0xF000, Fifo = 0x1000, CharacterDevice = 0x2000, Directory = 0x4000,
                         BlockDevice = 0x6000, Regular = 0x8000, Socket = 0xC000;

        [StructLayout(LayoutKind.Sequential, Size = 256)]
        public struct FileStatus
        {
            public int Flags;
            public int Mode;
        }

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        public static extern int Stat(string path, out FileStatus status);
    }
}
