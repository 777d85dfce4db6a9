using ConvNet.Data.Mandarin;
using ConvNet.Demo;
using Xunit;
using Xunit.Abstractions;

namespace ConvNet.Reliability.Tests;

/// <summary>Tests that measure time or memory run one at a time (the machine has two cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial: child processes that measure time or memory";
}

/// <summary>
/// Issue 16's cases that need a real process: Ctrl+C (SIGINT) and memory limits, run on the built convnet.dll.
/// Memory: the child runs with DOTNET_GCHeapHardLimit (managed heap) under /usr/bin/time (peak resident set size,
/// which also counts ImageSharp's unmanaged pixel buffers).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ProcessCases(ITestOutputHelper log, HugePngFolder huge) : IDisposable, IClassFixture<HugePngFolder>
{
    /// <summary>The stated bound: loading any folder or IDX file stays under 512 MB.</summary>
    private const long BoundKb = 512 * 1024;

    private static readonly Dictionary<string, string> HeapLimit512 = new() { ["DOTNET_GCHeapHardLimit"] = "0x20000000" };

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static bool CanMeasureMemory => OperatingSystem.IsLinux() && File.Exists("/usr/bin/time");

    // ---- 1. Ctrl+C ends the CLI within a second ------------------------------------------------------------

    [LinuxFact]
    public void Item01_ctrl_c_during_training_ends_the_cli()
    {
        // Interrupt once training runs (epoch 3: past the first-batch warm-up): Fit stops at the next batch.
        Make.ClassFolders(_dir["data"], 7, "a", "b", "c");
        var r = Convnet.Child(["train", "--data", _dir["data"], "--epochs", "100000", "--patience", "100000", "--out", _dir["out"], "--threads", "1"],
                              interruptWhen: "Epoch 3/");
        log.WriteLine($"SIGINT → exit: {r.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(r.ExitCode == ExitCodes.Cancelled, r.ToString());
        Assert.Contains("cancelled", r.Err);
        Assert.True(r.Elapsed < Convnet.HangLimit, r.ToString());   // a hang check; the time itself is logged, not asserted (speed is not a unit-test matter)
        Assert.False(File.Exists(_dir["out/model.cnet"]));
    }

    [LinuxFact]
    public void Item01_ctrl_c_during_work_that_ignores_cancellation_still_ends_the_cli()
    {
        // Decoding two 7000×7000 PNGs takes over a second and does not watch the cancellation token: the CLI's
        // watchdog ends the process 0.5 s after Ctrl+C.
        var r = Convnet.Child(["train", "--data", huge.Path, "--out", _dir["out"]], interruptWhen: "Loading");
        log.WriteLine($"SIGINT → exit: {r.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(r.ExitCode == ExitCodes.Cancelled, r.ToString());
        Assert.Contains("cancelled", r.Err);
        Assert.DoesNotContain("Found", r.Out);   // interrupted while loading
        Assert.True(r.Elapsed < Convnet.HangLimit, r.ToString());   // a hang check; the time itself is logged, not asserted (speed is not a unit-test matter)
    }

    [LinuxFact]
    public void Item01_the_built_cli_refuses_a_fifo_model_at_once()
    {
        string fifo = Make.Fifo(_dir["model.cnet"]);
        var r = Convnet.Child(["summary", "--model", fifo], timeout: TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == ExitCodes.Failure, r.ToString());
        Assert.Contains("named pipe (FIFO)", r.Err);
    }

    // ---- 11. make-mandarin honours Ctrl+C ----------------------------------------------------------------

    [LinuxFact]
    public void Item11_make_mandarin_stops_on_ctrl_c_with_a_non_zero_exit()
    {
        // Interrupt once the generator has written its first images.
        var r = Convnet.Child(["make-mandarin", "--out", _dir["m"], "--samples", "2000"],
                              interruptWhenTrue: () => Directory.Exists(_dir["m"]) && Directory.EnumerateFiles(_dir["m"], "*.png", SearchOption.AllDirectories).Any());
        log.WriteLine($"SIGINT → exit: {r.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(r.ExitCode == ExitCodes.Cancelled, r.ToString());
        Assert.Contains("cancelled", r.Err);
        Assert.DoesNotContain("Wrote", r.Out);
        Assert.True(r.Elapsed < Convnet.HangLimit, r.ToString());   // a hang check; the time itself is logged, not asserted (speed is not a unit-test matter)
    }

    // ---- 3. A huge declared IDX count: a clear error, not an OutOfMemoryException ----------------------------

    [Fact]
    public void Item03_train_on_an_idx_declaring_1369000_images_fails_clearly_within_the_memory_bound()
    {
        if (!CanMeasureMemory) return;
        Directory.CreateDirectory(_dir["mnist"]);
        LibraryCases.HugeDeclaredIdx(_dir["mnist/train-images-idx3-ubyte.gz"], 1_369_000);
        ConvNet.Data.Idx.WriteLabels(_dir["mnist/train-labels-idx1-ubyte"], new byte[10]);
        ConvNet.Data.Idx.WriteImages(_dir["mnist/t10k-images-idx3-ubyte"], new byte[10 * 28 * 28], 10, 28, 28);
        ConvNet.Data.Idx.WriteLabels(_dir["mnist/t10k-labels-idx1-ubyte"], new byte[10]);
        var r = Convnet.Child(["train", "--data", _dir["mnist"], "--out", _dir["out"]], environment: HeapLimit512, measureMemory: true);
        log.WriteLine($"peak RSS {r.PeakRssKb / 1024} MB");
        Assert.True(r.ExitCode == ExitCodes.Failure, r.ToString());
        Assert.Contains("IdxReadOptions.MaxBytes", r.Err);
        Assert.DoesNotContain("internal error", r.Err);
        Assert.True(r.PeakRssKb < BoundKb, $"peak RSS {r.PeakRssKb:N0} kB\n{r}");
    }

    // ---- 4. Huge PNGs: a folder of two 7000×7000 images loads under 512 MB ---------------------------------

    [Fact]
    public void Item04_a_folder_of_two_7000x7000_pngs_loads_under_512_MB()
    {
        if (!CanMeasureMemory) return;
        // Two classes of one image each: the folder is fully loaded (both decoded), then the split has no training images.
        var r = Convnet.Child(["train", "--data", huge.Path, "--out", _dir["out"]], environment: HeapLimit512, measureMemory: true);
        log.WriteLine($"peak RSS {r.PeakRssKb / 1024} MB");
        Assert.True(r.ExitCode == ExitCodes.Failure, r.ToString());
        Assert.Contains("Found 2 files belonging to 2 classes.", r.Out);
        Assert.Contains("leaves no training images", r.Err);
        Assert.True(r.PeakRssKb < BoundKb, $"peak RSS {r.PeakRssKb:N0} kB\n{r}");
    }
}

/// <summary>A folder of two classes with one all-zero 7000×7000 PNG each (49 million pixels per image), made once.</summary>
public sealed class HugePngFolder : IDisposable
{
    private readonly TempDir _dir = new();

    public HugePngFolder()
    {
        foreach (string c in new[] { "a", "b" })
        {
            Directory.CreateDirectory(_dir[c]);
            MandarinGenerator.SavePng(new byte[7000 * 7000], 7000, 7000, _dir[$"{c}/{c}-1.png"]);
        }
    }

    public string Path => _dir.Path;

    public void Dispose() => _dir.Dispose();
}
