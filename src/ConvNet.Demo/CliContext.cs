using Spectre.Console;

namespace ConvNet.Demo;

/// <summary>Where a command writes: plain text writers plus a Spectre.Console view of the same output.</summary>
internal sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error, bool verbose, bool interactive, CancellationToken cancellation)
    {
        Out = output;
        Err = error;
        Verbose = verbose;
        Interactive = interactive;
        Cancellation = cancellation;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!interactive) Console.Profile.Width = 120;
    }

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Err { get; }

    /// <summary>Print stack traces on errors.</summary>
    public bool Verbose { get; }

    /// <summary>True when the output is a terminal that can show a live display.</summary>
    public bool Interactive { get; }

    /// <summary>Signalled on Ctrl+C.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Spectre.Console writing to <see cref="Out"/> (no colours or cursor movement unless interactive).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Writes a line to standard output.</summary>
    public void WriteLine(string text = "") => Out.WriteLine(text);

    /// <summary>
    /// True when the process writes to a real terminal: not redirected, not a CI log, not a dumb terminal.
    /// </summary>
    public static bool DetectInteractive(TextWriter output) =>
        ReferenceEquals(output, System.Console.Out)
        && !System.Console.IsOutputRedirected
        && Environment.GetEnvironmentVariable("CI") is null
        && Environment.GetEnvironmentVariable("TERM") is not "dumb"
        && Environment.GetEnvironmentVariable("NO_LIVE") is null;
}
