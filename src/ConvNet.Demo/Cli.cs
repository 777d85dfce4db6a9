using System.CommandLine;
using System.CommandLine.Help;
using ConvNet.Data;
using ConvNet.Demo.Commands;

namespace ConvNet.Demo;

/// <summary>
/// The <c>convnet</c> command line. <see cref="Run"/> is the whole program (Program.cs only forwards to it), so tests
/// can run every command in-process with their own writers.
/// Exit codes: 0 success, 1 failure (missing/bad files, unreadable images, wrong model files, unknown classes),
/// 2 bad arguments, 130 cancelled.
/// </summary>
public static class Cli
{
    /// <summary>Parses <paramref name="args"/>, runs the command and returns the exit code. With no arguments, runs <c>train</c>.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="interactive">Force (true) or forbid (false) the live progress display; null detects a terminal.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, bool? interactive = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Print full exception details (stack traces) on errors.",
            Recursive = true,
        };
        var host = new CliHost(output, error, interactive ?? CliContext.DetectInteractive(output), verbose);
        var root = new RootCommand(
            "convnet — a from-scratch convolutional network library for .NET, demonstrated on the lecture's Mandarin characters.\n" +
            "Without a command, runs `train` (and takes its options): by default on the bundled stand-in Mandarin set, generated on first use.");
        root.Options.Add(verbose);
        var train = TrainCommand.Create(host);
        root.Subcommands.Add(train);
        root.Subcommands.Add(PredictCommand.Create(host));
        root.Subcommands.Add(EvaluateCommand.Create(host));
        root.Subcommands.Add(SummaryCommand.Create(host));
        root.Subcommands.Add(MakeMandarinCommand.Create(host));
        root.Subcommands.Add(SplitCommand.Create(host));
        root.Subcommands.Add(BenchCommand.Create(host));
        root.Subcommands.Add(CalibrateCommand.Create(host));
        root.Subcommands.Add(LessonCommand.Create(host));
        root.Subcommands.Add(ExplainCommand.Create(host));
        root.Subcommands.Add(FeaturesCommand.Create(host));
        root.Subcommands.Add(ExploreCommand.Create(host));
        root.Subcommands.Add(TransferCommand.Create(host));
        root.Subcommands.Add(AugmentCommand.Create(host));
        root.Subcommands.Add(TuneCommand.Create(host));
        root.Subcommands.Add(ExportCommand.Create(host));
        var rootTrain = new TrainOptions();
        rootTrain.AddTo(root);
        root.SetAction(pr => host.Execute(pr, ctx => TrainCommand.Run(ctx, rootTrain.Read(pr))));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"convnet: error: {e.Message}");
            var command = parsed.CommandResult.Command;
            string cmd = command is RootCommand ? "" : command.Name + " ";
            if (command.Arguments.Count > 0)
                error.WriteLine($"Usage: convnet {cmd}[options] {string.Join(" ", command.Arguments.Select(a => $"<{a.Name}>..."))}");
            error.WriteLine($"Run 'convnet {cmd}--help' for usage.");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }
}

/// <summary>Runs command bodies with a <see cref="CliContext"/> and turns expected exceptions into one-line messages.</summary>
internal sealed class CliHost(TextWriter output, TextWriter error, bool interactive, Option<bool> verbose)
{
    /// <summary>Runs <paramref name="body"/>; errors → one line on stderr (full details with --verbose) and exit code 1.</summary>
    public int Execute(ParseResult parseResult, Func<CliContext, int> body)
    {
        bool isVerbose = parseResult.GetValue(verbose);
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler? onCancel = null;
        Timer? watchdog = null;
        if (ReferenceEquals(output, Console.Out))
        {
            // Ctrl+C cancels the command's token; whatever does not stop on its own within the grace period (a blocking
            // read, a long native call) ends with the process, so Ctrl+C always ends the command within a second.
            // A second Ctrl+C ends it at once.
            onCancel = (_, e) =>
            {
                e.Cancel = true;
                if (cts.IsCancellationRequested) ForceExit();
                cts.Cancel();
                watchdog ??= new Timer(_ => ForceExit(), null, CancelGracePeriod, Timeout.InfiniteTimeSpan);
            };
            Console.CancelKeyPress += onCancel;
        }
        try
        {
            return body(new CliContext(output, error, isVerbose, interactive, cts.Token));
        }
        catch (CliException e)
        {
            return Fail(e, e.ExitCode, isVerbose);
        }
        catch (OperationCanceledException e)
        {
            error.WriteLine("convnet: cancelled.");
            if (isVerbose) error.WriteLine(e);
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ImageLoadException or UnauthorizedAccessException
                                     or ArgumentException or LayerShapeException or TrainingException or NotSupportedException
                                     or InvalidOperationException or SixLabors.ImageSharp.ImageFormatException)
        {
            return Fail(e, ExitCodes.Failure, isVerbose);
        }
        catch (Exception e) when (!isVerbose)
        {
            return Fail(e, ExitCodes.Failure, isVerbose, internalError: true);
        }
        finally
        {
            if (onCancel is not null) Console.CancelKeyPress -= onCancel;
            watchdog?.Dispose();
        }
    }

    /// <summary>How long a cancelled command may take to stop before the process ends anyway.</summary>
    public static readonly TimeSpan CancelGracePeriod = TimeSpan.FromMilliseconds(500);

    private void ForceExit()
    {
        try { error.WriteLine("convnet: cancelled."); error.Flush(); } catch (IOException) { }
        Environment.Exit(ExitCodes.Cancelled);
    }

    private int Fail(Exception e, int code, bool isVerbose, bool internalError = false)
    {
        var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string first = lines.Length == 0 ? e.GetType().Name : lines[0];
        if (internalError) first = $"internal error ({e.GetType().Name}): {first}";
        if (lines.Length > 1 && !isVerbose) first += $" (+{lines.Length - 1} more line(s); run with --verbose for details)";
        error.WriteLine($"convnet: error: {first}");
        if (isVerbose) error.WriteLine(e);
        return code;
    }
}
