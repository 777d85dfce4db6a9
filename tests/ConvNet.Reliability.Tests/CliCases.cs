using ConvNet.Demo;
using Xunit;

namespace ConvNet.Reliability.Tests;

/// <summary>Issue 16's CLI cases, through <c>Cli.Run</c> in-process (with a deadline): messages and exit codes.</summary>
public sealed class CliCases : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void Failed(Convnet.Result r, int code, string text)
    {
        Assert.True(r.ExitCode == code, $"expected exit {code}: {r}");
        Assert.True(r.Err.Contains(text, StringComparison.Ordinal), $"expected stderr to contain \"{text}\": {r}");
    }

    // ---- 1. FIFOs in summary, predict, train -------------------------------------------------------------

    [LinuxFact]
    public void Item01_summary_predict_and_train_refuse_a_fifo()
    {
        string fifo = Make.Fifo(_dir["pipe.cnet"]);
        Failed(Convnet.InProcess("summary", "--model", fifo), ExitCodes.Failure, "named pipe (FIFO)");

        string model = Make.Model(_dir["run"]);
        string image = Make.Fifo(_dir["pipe.png"]);
        Failed(Convnet.InProcess("predict", "--model", model, image), ExitCodes.Failure, "named pipe (FIFO)");

        File.Delete(_dir["run/classes.txt"]);
        Make.Fifo(_dir["run/classes.txt"]);
        Failed(Convnet.InProcess("predict", "--model", model, Make.Png(_dir["ok.png"])), ExitCodes.Failure, "named pipe (FIFO)");

        Failed(Convnet.InProcess("train", "--data", Make.Fifo(_dir["data.zip"]), "--out", _dir["out"]), ExitCodes.Failure, "named pipe (FIFO)");
        Failed(Convnet.InProcess("train", "--data", Make.Fifo(_dir["data"]), "--out", _dir["out"]), ExitCodes.Failure, "named pipe (FIFO)");
        Assert.False(Directory.Exists(_dir["out"]));
    }

    [LinuxFact]
    public void Item01_split_refuses_a_fifo_before_copying_anything()
    {
        Make.ClassFolders(_dir["data"], 7, "a", "b");
        Make.Fifo(_dir["data/a/zz.png"]);
        Failed(Convnet.InProcess("split", "--input", _dir["data"], "--output", _dir["out"]), ExitCodes.Failure, "named pipe (FIFO)");
        Assert.False(Directory.Exists(_dir["out/train"]));
    }

    // ---- 2. Devices --------------------------------------------------------------------------------------

    [LinuxFact]
    public void Item02_predict_on_dev_zero_is_refused_at_once()
    {
        string model = Make.Model(_dir["run"]);
        var r = Convnet.InProcess("predict", "--model", model, "/dev/zero");
        Failed(r, ExitCodes.Failure, "character device");
        Assert.True(r.Elapsed < Convnet.HangLimit, r.ToString());   // refused, not read without end
    }

    // ---- 12. A directory where a file is expected ---------------------------------------------------------

    [Fact]
    public void Item12_directories_passed_as_files_are_named_as_directories()
    {
        string model = Make.Model(_dir["run"]);
        Directory.CreateDirectory(_dir["pictures"]);
        Failed(Convnet.InProcess("predict", "--model", model, _dir["pictures"]), ExitCodes.Failure, "is a directory, not a file");
        Directory.CreateDirectory(_dir["empty"]);
        Failed(Convnet.InProcess("summary", "--model", _dir["empty"]), ExitCodes.Failure, "is a directory without a model.cnet file");
        Directory.CreateDirectory(_dir["nested/model.cnet"]);
        Failed(Convnet.InProcess("summary", "--model", _dir["nested"]), ExitCodes.Failure, "is a directory, not a file");
    }

    // ---- 13. Corrupt zips through the CLI ----------------------------------------------------------------

    [Fact]
    public void Item13_train_on_a_corrupt_zip_names_the_zip()
    {
        File.WriteAllBytes(_dir["broken.zip"], [(byte)'P', (byte)'K', 5, 6, 1, 2, 3]);
        var r = Convnet.InProcess("train", "--data", _dir["broken.zip"], "--out", _dir["out"]);
        Failed(r, ExitCodes.Failure, $"Zip \"{_dir["broken.zip"]}\"");
        Assert.DoesNotContain("internal error", r.Err);
    }

    // ---- 15. --out / --output that is an existing file: checked before any work ---------------------------

    [Fact]
    public void Item15_output_paths_that_are_files_are_refused_before_any_work()
    {
        File.WriteAllText(_dir["file"], "x");
        Make.ClassFolders(_dir["data"], 7, "a", "b");
        var train = Convnet.InProcess("train", "--data", _dir["data"], "--out", _dir["file"], "--epochs", "1");
        Failed(train, ExitCodes.Failure, "is an existing file, not a folder");
        Assert.DoesNotContain("Training for up to", train.Out);
        Assert.DoesNotContain("Found", train.Out);                 // not even the data was loaded

        Failed(Convnet.InProcess("train", "--data", _dir["data"], "--out", _dir["file/sub"]), ExitCodes.Failure, "is a file, not a folder");
        Failed(Convnet.InProcess("make-mandarin", "--out", _dir["file"], "--labels", "kou"), ExitCodes.Failure, "is an existing file");
        Failed(Convnet.InProcess("make-mandarin", "--out", _dir["file/sub"], "--labels", "kou"), ExitCodes.Failure, "is a file, not a folder");
        Failed(Convnet.InProcess("split", "--input", _dir["data"], "--output", _dir["file"]), ExitCodes.Failure, "is an existing file");
        Assert.DoesNotContain("Could not find a part of the path", Convnet.InProcess("split", "--input", _dir["data"], "--output", _dir["file/x"]).Err);
    }

    // ---- 24. One class -----------------------------------------------------------------------------------

    [Fact]
    public void Item24_train_refuses_a_one_class_dataset()
    {
        Make.ClassFolders(_dir["one"], 7, "only");
        var r = Convnet.InProcess("train", "--data", _dir["one"], "--out", _dir["out"], "--epochs", "1");
        Failed(r, ExitCodes.Failure, "only one class ('only')");
        Assert.Contains("Found 5 files belonging to 1 class.", r.Out);   // item 25: "1 class", not "1 classes"
        Assert.DoesNotContain("Training for up to", r.Out);
    }

    // ---- 25. Smaller inconsistencies ---------------------------------------------------------------------

    [Fact]
    public void Item25_evaluate_on_an_unsplit_folder_warns_and_a_split_folder_does_not()
    {
        string model = Make.Model(_dir["run"], "a", "b");
        Make.ClassFolders(_dir["data"], 2, "a", "b");
        var unsplit = Convnet.InProcess("evaluate", "--model", model, "--data", _dir["data"]);
        Assert.True(unsplit.ExitCode == 0, unsplit.ToString());
        Assert.Contains("is not split", unsplit.Err);
        Assert.Contains("too optimistic", unsplit.Err);

        Make.Split(_dir["split"], withTest: true, "a", "b");
        var split = Convnet.InProcess("evaluate", "--model", model, "--data", _dir["split"]);
        Assert.True(split.ExitCode == 0, split.ToString());
        Assert.DoesNotContain("warning", split.Err);
        Assert.Contains("the test part", split.Out);
        var testFolder = Convnet.InProcess("evaluate", "--model", model, "--data", _dir["split/test"]);
        Assert.DoesNotContain("warning", testFolder.Err);
    }

    [Fact]
    public void Item25_unknown_model_names_are_usage_errors_everywhere_and_missing_files_are_failures()
    {
        Failed(Convnet.InProcess("summary", "--model", "resnet"), ExitCodes.Usage, "Unknown model 'resnet'");
        Assert.Equal(ExitCodes.Usage, Convnet.InProcess("train", "--model", "resnet").ExitCode);
        Failed(Convnet.InProcess("summary", "--model", _dir["missing.cnet"]), ExitCodes.Failure, "does not exist");
        Failed(Convnet.InProcess("explain", "--model", "resnet", "--layer", "x", "--at", "0,0,0"), ExitCodes.Usage, "Unknown model 'resnet'");
    }

    [Fact]
    public void Item25_paths_are_in_double_quotes_and_names_in_single_quotes()
    {
        string missing = _dir["nope"];
        Failed(Convnet.InProcess("train", "--data", missing), ExitCodes.Failure, $"Data path \"{missing}\" does not exist");
        Failed(Convnet.InProcess("summary", "--model", missing + ".cnet"), ExitCodes.Failure, $"Model file \"{missing}.cnet\"");
    }
}
