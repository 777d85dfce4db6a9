namespace ConvNet.Demo;

/// <summary>An expected failure with a message for the user (printed as one line on stderr, no stack trace).</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    /// <summary>The process exit code to return.</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>Exit codes of the <c>convnet</c> command.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;
    /// <summary>Missing or bad input files, unreadable images, wrong model files, training failures.</summary>
    public const int Failure = 1;
    /// <summary>Bad command-line arguments.</summary>
    public const int Usage = 2;
    /// <summary>Interrupted with Ctrl+C.</summary>
    public const int Cancelled = 130;
}
