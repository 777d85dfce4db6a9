using ConvNet.Data.Mandarin;

namespace ConvNet.Demo;

/// <summary>The bundled stand-in Mandarin set, generated once into <c>runs/.cache/mandarin-v2-seed1337</c>.</summary>
internal static class MandarinCache
{
    private const string Marker = ".complete";

    /// <summary>The cache folder for a seed, below the current directory.</summary>
    public static string FolderFor(int seed) =>
        Path.Combine(Environment.CurrentDirectory, "runs", ".cache", $"mandarin-v2-seed{seed}");

    /// <summary>Returns the folder of class folders, generating it first if needed (into a temporary folder, then renamed).</summary>
    public static string Ensure(CliContext ctx, int seed = MandarinGenerator.DefaultSeed)
    {
        string dir = FolderFor(seed);
        if (File.Exists(Path.Combine(dir, Marker)))
        {
            ctx.WriteLine($"Using the stand-in Mandarin set in {dir}");
            return dir;
        }
        ctx.WriteLine($"Generating the stand-in Mandarin set (57 classes × 7 samples, seed {seed}) into {dir} …");
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        MandarinGenerator.Generate(tmp, seed, cancellationToken: ctx.Cancellation);
        File.WriteAllText(Path.Combine(tmp, Marker), $"MandarinGenerator seed {seed}\n");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        Directory.Move(tmp, dir);
        return dir;
    }

    /// <summary>The character of a class if it is one of the Mandarin labels, else null.</summary>
    public static string? CharacterOf(string className) =>
        MandarinLabels.IndexOf(className) >= 0 ? MandarinLabels.Get(className).Character : null;

    /// <summary><c>kou</c> → <c>kou 口</c>; other names unchanged.</summary>
    public static string Describe(string className) =>
        CharacterOf(className) is { } ch ? $"{className} {ch}" : className;
}
