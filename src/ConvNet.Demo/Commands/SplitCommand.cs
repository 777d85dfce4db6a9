using System.CommandLine;
using ConvNet.Data;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet split --input DIR --output DIR</c>: split-folders' <c>ratio()</c>, file for file.</summary>
internal static class SplitCommand
{
    public static Command Create(CliHost host)
    {
        var input = new Option<string>("--input")
        {
            Description = "Folder with one sub-folder per class.",
            HelpName = "DIR",
            Required = true,
        };
        var output = new Option<string>("--output")
        {
            Description = "Output folder; gets train/, val/ and (with three ratios) test/, each with the class folders.",
            HelpName = "DIR",
            Required = true,
        };
        var seed = OptionFactory.Seed("--seed", "Seed for CPython's random.seed, as in split-folders.");
        var ratio = OptionFactory.Ratio();
        var cmd = new Command("split", "Split class folders into train/val/test exactly like the Python package split-folders (splitfolders.ratio).")
        {
            input, output, seed, ratio,
        };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(input)!, pr.GetValue(output)!, pr.GetValue(seed), pr.GetValue(ratio) is { Length: > 0 } r ? r : Ratios.Lecture)));
        return cmd;
    }

    public static int Run(CliContext ctx, string input, string output, int seed, double[] ratio)
    {
        if (!Directory.Exists(input))
            throw new CliException(File.Exists(input) ? $"--input \"{input}\" is a file, not a folder of class folders." : $"--input folder \"{input}\" does not exist.");
        OutputFolder.Check("--output", output);
        var splits = SplitFolders.Ratio(input, output, seed, ratio);
        int train = splits.Sum(s => s.Train.Count), val = splits.Sum(s => s.Val.Count), test = splits.Sum(s => s.Test.Count);
        ctx.WriteLine($"Split {splits.Count} classes (seed {seed}, ratio {Ratios.Format(ratio)}) into {Path.GetFullPath(output)}:");
        ctx.WriteLine($"  train: {train} files");
        ctx.WriteLine($"  val:   {val} files");
        if (ratio.Length == 3) ctx.WriteLine($"  test:  {test} files");
        return ExitCodes.Success;
    }
}
