using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvNet.Data.Mandarin;
using ConvNet.Demo;
using Xunit;

namespace ConvNet.Reliability.Tests;

/// <summary>Runs a library call with a deadline, so a hang fails the test instead of blocking CI.</summary>
internal static class Deadline
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="body"/> on a background thread; fails if it does not finish in time.</summary>
    public static T Within<T>(Func<T> body, TimeSpan? limit = null)
    {
        var task = Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(limit ?? Default))
            Assert.Fail($"Did not finish within {(limit ?? Default).TotalSeconds:0.#} s (a hang).");
        return task.Result;
    }

    /// <summary>Runs <paramref name="body"/> with a deadline and returns the exception it throws (fails if none).</summary>
    public static TException Throws<TException>(Action body, TimeSpan? limit = null) where TException : Exception
    {
        var caught = Within<Exception?>(() =>
        {
            try { body(); return null; }
            catch (Exception e) { return e; }
        }, limit);
        Assert.NotNull(caught);
        return Assert.IsAssignableFrom<TException>(caught);
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "convnet-reliability-" + Guid.NewGuid().ToString("N"));

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A fact that needs Linux (named pipes made with mkfifo, /dev/zero); skipped cleanly elsewhere.</summary>
internal sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/mkfifo") && !File.Exists("/bin/mkfifo"))
            Skip = "needs Linux with mkfifo";
    }
}

/// <summary>Test files: PNGs, FIFOs, class folders, a tiny model.</summary>
internal static class Make
{
    /// <summary>Creates a named pipe with mkfifo (nobody ever writes to it: opening it for reading would block forever).</summary>
    public static string Fifo(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return path;
    }

    /// <summary>A grayscale PNG of the given size filled with <paramref name="value"/>.</summary>
    public static string Png(string path, int width = 16, int height = 16, byte value = 128)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var pixels = new byte[width * height];
        Array.Fill(pixels, value);
        for (int i = 0; i < Math.Min(pixels.Length, 97); i++) pixels[i * 7 % pixels.Length] = (byte)(i * 13);
        MandarinGenerator.SavePng(pixels, width, height, path);
        return path;
    }

    /// <summary>root/&lt;class&gt;/&lt;class&gt;-k.png for each class.</summary>
    public static string ClassFolders(string root, int perClass, params string[] classes)
    {
        foreach (string c in classes)
            for (int k = 1; k <= perClass; k++)
                Png(System.IO.Path.Combine(root, c, $"{c}-{k}.png"), value: (byte)(40 * k + c.Length));
        return root;
    }

    /// <summary>A split folder train/ val/ (test/) with the given classes.</summary>
    public static string Split(string root, bool withTest, params string[] classes)
    {
        ClassFolders(System.IO.Path.Combine(root, "train"), 3, classes);
        ClassFolders(System.IO.Path.Combine(root, "val"), 1, classes);
        if (withTest) ClassFolders(System.IO.Path.Combine(root, "test"), 1, classes);
        return root;
    }

    /// <summary>An untrained 16×16×1 → 2-class model with classes.txt, as `convnet train` writes it.</summary>
    public static string Model(string folder, params string[] classes)
    {
        Directory.CreateDirectory(folder);
        if (classes.Length == 0) classes = ["a", "b"];
        var model = new Sequential(new Input(16, 16, 1), Rescaling.Divide(255), new Flatten(), new Dense(classes.Length)) { Seed = 1 };
        string path = System.IO.Path.Combine(folder, "model.cnet");
        model.Save(path);
        File.WriteAllText(System.IO.Path.Combine(folder, "classes.txt"), string.Join('\n', classes) + "\n");
        return path;
    }
}

/// <summary>The CLI, in-process (fast; for messages and exit codes) or as the built convnet.dll in a child process.</summary>
internal static class Convnet
{
    /// <summary>How long a case may take before it counts as a hang. Not a speed requirement: on this shared machine timings
    /// swing by 2× and more, so tests assert "it ended", and the measured times go to the log and the closing notes.</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(15);

    public sealed record Result(int ExitCode, string Out, string Err, TimeSpan Elapsed, long PeakRssKb = 0)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalMilliseconds:0} ms\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    /// <summary>Runs <c>Cli.Run</c> in-process with a deadline.</summary>
    public static Result InProcess(params string[] args) => Deadline.Within(() =>
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        int code = Cli.Run(args, output, error, interactive: false);
        return new Result(code, output.ToString(), error.ToString(), clock.Elapsed);
    });

    /// <summary>The built CLI next to the test assembly.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "convnet.dll");

    /// <summary>
    /// Runs <c>dotnet convnet.dll args</c>. <paramref name="interruptWhen"/>: send SIGINT once stdout contains this text
    /// (the result's Elapsed is then the time from the signal to the exit). <paramref name="measureMemory"/>: run under
    /// /usr/bin/time and report the peak resident set size.
    /// </summary>
    public static Result Child(string[] args, string? workingDirectory = null, IDictionary<string, string>? environment = null,
                               string? interruptWhen = null, bool measureMemory = false, TimeSpan? timeout = null,
                               Func<bool>? interruptWhenTrue = null)
    {
        string? timeFile = measureMemory ? Path.GetTempFileName() : null;
        var psi = new ProcessStartInfo(measureMemory ? "/usr/bin/time" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        if (measureMemory)
            foreach (string a in new[] { "-f", "%M", "-o", timeFile!, "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(Dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_LIVE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;

        using var p = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var signalled = new ManualResetEventSlim();
        Stopwatch? sinceSignal = null;
        var gate = new object();
        void Interrupt()
        {
            lock (gate)
            {
                if (signalled.IsSet) return;
                signalled.Set();
                sinceSignal = Stopwatch.StartNew();
                using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", p.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
                kill.WaitForExit();
            }
        }
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (interruptWhen is not null && e.Data.Contains(interruptWhen, StringComparison.Ordinal)) Interrupt();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        var clock = Stopwatch.StartNew();
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        if (interruptWhenTrue is not null)
        {
            var poll = Stopwatch.StartNew();
            while (!p.HasExited && !interruptWhenTrue() && poll.Elapsed < limit) Thread.Sleep(10);
            if (!p.HasExited) Interrupt();
        }
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"convnet {string.Join(' ', args)} did not exit within {limit.TotalSeconds:0} s (a hang).\n{stdout}\n{stderr}");
        }
        p.WaitForExit();
        var elapsed = sinceSignal?.Elapsed ?? clock.Elapsed;
        if ((interruptWhen is not null || interruptWhenTrue is not null) && !signalled.IsSet)
            Assert.Fail($"convnet {string.Join(' ', args)} exited before it could be interrupted.\n{stdout}\n{stderr}");
        long rss = 0;
        if (timeFile is not null)
        {
            var lines = File.ReadAllLines(timeFile).Where(l => l.Trim().Length > 0).ToArray();
            File.Delete(timeFile);
            rss = long.Parse(lines[^1].Trim(), CultureInfo.InvariantCulture);
        }
        lock (stdout) lock (stderr)
            return new Result(p.ExitCode, stdout.ToString(), stderr.ToString(), elapsed, rss);
    }
}
