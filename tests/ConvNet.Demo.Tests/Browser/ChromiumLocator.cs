using System.Diagnostics;

namespace ConvNet.Demo.Tests.Browser;

/// <summary>
/// Finds Debian's Chromium for the browser tests: <c>CHROMIUM_PATH</c>, else /usr/bin/chromium. When neither exists and the
/// tests run as root with apt-get, installs the <c>chromium</c> package once (bounded by <see cref="InstallTimeout"/>).
/// Never downloads a browser build of its own.
/// </summary>
internal static class ChromiumLocator
{
    public const string DebianPath = "/usr/bin/chromium";
    public static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(15);
    private const string AptGet = "/usr/bin/apt-get";
    private static readonly Lock Gate = new();

    private static string HowToInstall =>
        $"The explore tests need Chromium: install Debian's package (as root: apt-get update && apt-get install -y chromium), " +
        $"or set CHROMIUM_PATH to a Chromium or Chrome executable. Looked for \"{DebianPath}\".";

    public static string Find()
    {
        lock (Gate)
        {
            string? env = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
            if (!string.IsNullOrWhiteSpace(env))
                return File.Exists(env) ? env : throw new InvalidOperationException($"CHROMIUM_PATH is \"{env}\", which does not exist. {HowToInstall}");
            if (File.Exists(DebianPath)) return DebianPath;
            if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess || !File.Exists(AptGet))
                throw new InvalidOperationException(HowToInstall);
            string log = Install();
            return File.Exists(DebianPath) ? DebianPath : throw new InvalidOperationException($"apt-get did not install \"{DebianPath}\". {HowToInstall}\n{log}");
        }
    }

    private static string Install()
    {
        var info = new ProcessStartInfo("/bin/sh", ["-c", "apt-get update -qq && apt-get install -y -qq chromium"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(info) ?? throw new InvalidOperationException("Could not start apt-get. " + HowToInstall);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(InstallTimeout))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"apt-get install chromium did not finish within {InstallTimeout.TotalMinutes} minutes. {HowToInstall}");
        }
        return $"apt-get exit code {p.ExitCode}\n{stdout.Result}\n{stderr.Result}";
    }
}
