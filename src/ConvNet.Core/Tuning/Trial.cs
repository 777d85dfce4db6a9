using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConvNet.Tuning;

/// <summary>Whether a lower or a higher objective is better.</summary>
public enum ObjectiveDirection
{
    /// <summary>Lower is better (losses, errors).</summary>
    Min,
    /// <summary>Higher is better (accuracies, AUC, precision, recall).</summary>
    Max,
}

/// <summary>
/// What a tuner optimises: a key of <c>Fit</c>'s logs (<c>val_accuracy</c>, <c>val_loss</c>, any metric or its <c>val_</c> form)
/// and a direction, taken from the name unless given (names containing "acc", AUC, precision and recall are maximised, the rest minimised).
/// A string converts implicitly: <c>objective: "val_accuracy"</c>.
/// </summary>
public sealed record Objective(string Name, ObjectiveDirection Direction)
{
    /// <summary>The objective <paramref name="name"/> with its direction from the name.</summary>
    public static Objective FromName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(name, Monitors.Resolve(name, MonitorMode.Auto) == MonitorMode.Max ? ObjectiveDirection.Max : ObjectiveDirection.Min);
    }

    /// <summary>Same as <see cref="FromName"/>.</summary>
    public static implicit operator Objective(string name) => FromName(name);

    /// <summary>True if <paramref name="a"/> is strictly better than <paramref name="b"/>.</summary>
    public bool IsBetter(double a, double b) => Direction == ObjectiveDirection.Max ? a > b : a < b;

    /// <summary>Keras Tuner's form: <c>Objective(name="val_accuracy", direction="max")</c>.</summary>
    public override string ToString() => $"Objective(name=\"{Name}\", direction=\"{(Direction == ObjectiveDirection.Max ? "max" : "min")}\")";
}

/// <summary>State of a trial.</summary>
public enum TrialStatus
{
    /// <summary>Created and not finished (a trial still running when a search was interrupted is run again on resume).</summary>
    Running,
    /// <summary>Trained; <see cref="Trial.Score"/> is set.</summary>
    Completed,
    /// <summary>Building or training threw; <see cref="Trial.Message"/> says why.</summary>
    Failed,
}

/// <summary>One point of the search: its hyper-parameters and, once run, its score.</summary>
public sealed class Trial
{
    internal Trial(string trialId, HyperParameters hyperParameters)
    {
        TrialId = trialId;
        HyperParameters = hyperParameters;
    }

    /// <summary>The zero-padded number of the trial ("00", "01", …), as Keras Tuner names them.</summary>
    public string TrialId { get; }

    /// <summary>The trial's values (a copy of the space with this trial's point).</summary>
    public HyperParameters HyperParameters { get; }

    /// <summary>Running, completed or failed.</summary>
    public TrialStatus Status { get; internal set; }

    /// <summary>The objective's best epoch value, averaged over the executions; null unless completed.</summary>
    public double? Score { get; internal set; }

    /// <summary>1-based epoch (counted from the start of training, across Hyperband rounds) where the first execution scored best.</summary>
    public int BestEpoch { get; internal set; }

    /// <summary>Epochs trained in this trial (per execution).</summary>
    public int Epochs { get; internal set; }

    /// <summary>Why the trial failed.</summary>
    public string? Message { get; internal set; }

    /// <summary>Wall time of the trial.</summary>
    public TimeSpan Duration { get; internal set; }

    internal string ToJson()
    {
        var values = new JsonObject();
        foreach (var (k, v) in HyperParameters.Values) values[k] = ToNode(v);
        var o = new JsonObject
        {
            ["trial_id"] = TrialId,
            ["status"] = Status.ToString().ToUpperInvariant(),
            ["hyperparameters"] = values,
            ["score"] = Score is double s && double.IsFinite(s) ? s : null,
            ["best_epoch"] = BestEpoch,
            ["epochs"] = Epochs,
            ["seconds"] = Math.Round(Duration.TotalSeconds, 3),
            ["message"] = Message,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads a trial written by <see cref="ToJson"/>; values are converted to the types of <paramref name="space"/>'s entries.</summary>
    internal static Trial FromJson(string json, HyperParameters space, string path)
    {
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            var hp = space.Copy();
            foreach (var (k, node) in o["hyperparameters"]!.AsObject()) hp.Set(k, FromNode(node!));
            return new Trial((string)o["trial_id"]!, hp)
            {
                Status = Enum.Parse<TrialStatus>((string)o["status"]!, ignoreCase: true),
                Score = (double?)o["score"],
                BestEpoch = (int)o["best_epoch"]!,
                Epochs = (int)o["epochs"]!,
                Duration = TimeSpan.FromSeconds((double)o["seconds"]!),
                Message = (string?)o["message"],
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or NullReferenceException or InvalidCastException)
        {
            throw new InvalidDataException($"{path}: not a trial record this tuner can resume from ({e.Message}). Use overwrite: true to start again.", e);
        }
    }

    private static JsonNode? ToNode(object v) => v switch
    {
        int i => i,
        long l => l,
        double d => d,
        float f => (double)f,
        bool b => b,
        string s => s,
        _ => v.ToString(),
    };

    private static object FromNode(JsonNode node)
    {
        var e = node.GetValue<JsonElement>();
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => e.GetString()!,
            JsonValueKind.Number when e.TryGetInt32(out int i) => i,
            JsonValueKind.Number => e.GetDouble(),
            _ => throw new FormatException($"unexpected value {e}"),
        };
    }
}

/// <summary>Writes text files atomically: a temporary file in the same folder, flushed, then renamed over the target (as <see cref="ModelFile"/> does).</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(Encoding.UTF8.GetBytes(text));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
