using System.IO.Compression;
using ConvNet.IO;

namespace ConvNet.Data;

/// <summary>
/// A <see cref="FileTree"/> over a zip archive, read in place (nothing is extracted). Entry names are
/// validated on open: an entry with a <c>..</c> segment, an absolute name (leading '/', '\' or a drive
/// letter) or a declared uncompressed size above the limit makes the whole archive invalid.
/// Entries under <c>__MACOSX/</c> are dropped. Backslashes are treated as '/'.
/// </summary>
internal sealed class ZipFileTree : FileTree
{
    private readonly ZipArchive _archive;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _files = [];
    private readonly HashSet<string> _dirs = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Entries dropped because they are macOS resource forks (<c>__MACOSX/…</c>).</summary>
    public List<string> MacOsJunk { get; } = [];

    public ZipFileTree(string zipPath, long maxEntryBytes)
    {
        Source = zipPath;
        var stream = SafeFile.OpenRead(zipPath, "Zip file");   // refuses directories, FIFOs and devices
        try
        {
            _archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
        {
            stream.Dispose();
            throw new InvalidDataException($"Zip \"{zipPath}\" is not a readable zip archive (corrupt or truncated central directory?): {e.Message}", e);
        }

        try
        {
            foreach (var entry in _archive.Entries)
                AddEntry(entry, maxEntryBytes);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException && !e.Message.StartsWith("Zip \"", StringComparison.Ordinal))
        {
            _archive.Dispose();
            throw new InvalidDataException($"Zip \"{zipPath}\" has a corrupt central directory: {e.Message}", e);
        }
        catch
        {
            _archive.Dispose();
            throw;
        }
    }

    private void AddEntry(ZipArchiveEntry entry, long maxEntryBytes)
    {
        string raw = entry.FullName;
        string name = raw.Replace('\\', '/');
        if (name.StartsWith('/') || (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':'))
            throw new InvalidDataException($"Zip \"{Source}\" has an entry with an absolute path, \"{raw}\"; refusing to read it.");
        bool isDirectory = name.EndsWith('/');
        var segments = name.TrimEnd('/').Split('/');
        if (segments.Any(s => s == ".."))
            throw new InvalidDataException($"Zip \"{Source}\" has an entry that escapes its folder (\"..\"), \"{raw}\"; refusing to read it.");
        if (!isDirectory && entry.IsEncrypted)
            throw new InvalidDataException($"Zip \"{Source}\" entry \"{raw}\" is encrypted (password-protected); encrypted zips cannot be read. Extract it with the password, or re-create the zip without one.");
        if (!isDirectory && entry.Length > maxEntryBytes)
            throw new InvalidDataException($"Zip \"{Source}\" entry \"{raw}\" declares {entry.Length:N0} uncompressed bytes, more than the limit of {maxEntryBytes:N0} (ImageLoadOptions.MaxFileBytes).");

        string clean = string.Join('/', segments.Where(s => s.Length > 0 && s != "."));
        if (clean.Length == 0) return;
        if (clean == "__MACOSX" || clean.StartsWith("__MACOSX/", StringComparison.Ordinal))
        {
            if (!isDirectory) MacOsJunk.Add(raw);
            return;
        }

        // every parent folder exists implicitly
        for (int i = clean.IndexOf('/'); i >= 0; i = clean.IndexOf('/', i + 1))
            _dirs.Add(clean[..i]);
        if (isDirectory)
        {
            _dirs.Add(clean);
        }
        else if (_entries.TryAdd(clean, entry))
        {
            _files.Add(clean);
        }
        else
        {
            throw new InvalidDataException($"Zip \"{Source}\" has two entries named \"{clean}\".");
        }
    }

    public override string Source { get; }

    public override IReadOnlyList<string> Files => _files;

    public override IReadOnlyCollection<string> Directories => _dirs;

    public override string Display(string relativePath) =>
        _entries.TryGetValue(relativePath, out var entry) ? $"{Source}!{entry.FullName}" : $"{Source}!{relativePath}/";

    public override byte[] ReadAllBytes(string relativePath, long maxBytes)
    {
        var entry = _entries[relativePath];
        if (entry.Length > maxBytes)
            throw new InvalidDataException($"the entry declares {entry.Length:N0} bytes, more than the limit of {maxBytes:N0}");
        // ZipArchive is not thread-safe: read entries one at a time.
        lock (_gate)
        {
            using var stream = entry.Open();
            var buffer = new byte[entry.Length];
            int read;
            try { read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
            catch (InvalidDataException e) { throw new InvalidDataException($"the entry is corrupt: {e.Message}", e); }
            if (read < buffer.Length)
                throw new InvalidDataException($"the entry is truncated: {read:N0} of {entry.Length:N0} bytes could be decompressed");
            if (stream.ReadByte() >= 0)
                throw new InvalidDataException($"the entry decompresses to more than its declared {entry.Length:N0} bytes");
            return buffer;
        }
    }

    public override void Dispose() => _archive.Dispose();
}
