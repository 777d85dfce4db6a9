using System.CommandLine;
using ConvNet.Data.Mandarin;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet make-mandarin --out DIR</c>: writes the stand-in Mandarin set and its contact sheet.</summary>
internal static class MakeMandarinCommand
{
    public const string ContactSheet = "contact-sheet.png";

    public static Command Create(CliHost host)
    {
        var output = new Option<string>("--out")
        {
            Description = "Output folder: <label>/<label>-<k>.png per class, plus contact-sheet.png.",
            HelpName = "DIR",
            Required = true,
        };
        var seed = OptionFactory.Seed("--seed", "Generator seed (the same seed gives byte-identical files).");
        var samples = OptionFactory.Int("--samples", "Samples per class.", MandarinGenerator.DefaultSamplesPerClass, 1);
        var size = OptionFactory.Int("--size", "Image side in pixels.", MandarinGenerator.DefaultSize, 8);
        var labels = new Option<string[]>("--labels")
        {
            Description = "Only these classes (e.g. --labels kou ren ri); default: all 57.",
            AllowMultipleArgumentsPerToken = true,
        };
        var cmd = new Command("make-mandarin", "Generate the stand-in for the lecture's Mandarin handwriting set (57 characters × 7 samples).")
        {
            output, seed, samples, size, labels,
        };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(output)!, pr.GetValue(seed), pr.GetValue(samples), pr.GetValue(size), pr.GetValue(labels))));
        return cmd;
    }

    public static int Run(CliContext ctx, string outDir, int seed, int samples, int size, string[]? labels)
    {
        if (labels is { Length: > 0 })
        {
            var unknown = labels.Where(l => MandarinLabels.IndexOf(l) < 0).ToArray();
            if (unknown.Length > 0)
                throw new CliException($"Unknown class label(s): {string.Join(", ", unknown)}; known: {string.Join(" ", MandarinLabels.Names)}.");
        }
        OutputFolder.Check("--out", outDir);
        var files = MandarinGenerator.Generate(outDir, seed, samples, size, labels is { Length: > 0 } ? labels : null, cancellationToken: ctx.Cancellation);
        ctx.Cancellation.ThrowIfCancellationRequested();
        string sheet = Path.Combine(outDir, ContactSheet);
        MandarinGenerator.WriteContactSheet(outDir, sheet);
        int classes = files.Select(f => Path.GetFileName(Path.GetDirectoryName(f))).Distinct().Count();
        ctx.WriteLine($"Wrote {files.Count} images ({classes} classes × {samples}, {size}×{size} px, seed {seed}) to {Path.GetFullPath(outDir)}");
        ctx.WriteLine($"Contact sheet: {Path.GetFullPath(sheet)}");
        return ExitCodes.Success;
    }
}
