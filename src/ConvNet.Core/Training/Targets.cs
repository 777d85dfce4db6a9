using System.Globalization;

namespace ConvNet;

/// <summary>What a loss or metric compares predictions with.</summary>
public enum TargetKind
{
    /// <summary>One integer class index per sample (Keras' sparse labels), for <see cref="SparseCategoricalCrossentropy"/>, <see cref="Accuracy"/>, ….</summary>
    Labels,
    /// <summary>Float targets with the model's output width per sample, (N, outputs): regression, binary 0/1, one-hot.</summary>
    Values,
}

/// <summary>
/// The targets of one batch as a loss or metric sees them: either <see cref="Labels"/> (one class index per row)
/// or <see cref="Values"/> (row-major (rows, <see cref="Width"/>) floats). A view over existing memory; it copies nothing.
/// </summary>
public readonly ref struct TargetBatch
{
    private TargetBatch(TargetKind kind, ReadOnlySpan<int> labels, ReadOnlySpan<float> values, int width)
    {
        Kind = kind; Labels = labels; Values = values; Width = width;
    }

    /// <summary>Class-index targets, one per row.</summary>
    public static TargetBatch FromLabels(ReadOnlySpan<int> labels) => new(TargetKind.Labels, labels, default, 1);

    /// <summary>Float targets, row-major with <paramref name="width"/> values per row.</summary>
    public static TargetBatch FromValues(ReadOnlySpan<float> values, int width)
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"The target width must be positive, got {width}.");
        if (values.Length % width != 0) throw new ArgumentException($"{values.Length} target values do not split into rows of {width}.", nameof(values));
        return new(TargetKind.Values, default, values, width);
    }

    /// <summary>Which of <see cref="Labels"/> and <see cref="Values"/> holds the targets.</summary>
    public TargetKind Kind { get; }

    /// <summary>Class indices (empty unless <see cref="Kind"/> is <see cref="TargetKind.Labels"/>).</summary>
    public ReadOnlySpan<int> Labels { get; }

    /// <summary>Float targets, (rows, <see cref="Width"/>) row-major (empty unless <see cref="Kind"/> is <see cref="TargetKind.Values"/>).</summary>
    public ReadOnlySpan<float> Values { get; }

    /// <summary>Values per row (1 for labels).</summary>
    public int Width { get; }

    /// <summary>Number of rows (samples).</summary>
    public int Rows => Kind == TargetKind.Labels ? Labels.Length : Values.Length / Width;
}

/// <summary>Checks that targets suit a loss or metric, with messages that name it; shared by losses, metrics and the training loop.</summary>
internal static class TargetChecks
{
    /// <summary>The kind of targets each kind means in an error message.</summary>
    public static string Describe(TargetKind kind, int width) => kind == TargetKind.Labels
        ? "integer class labels (one index per sample)"
        : $"float targets of shape (N, {width})";

    /// <summary>How to convert when the kinds do not match.</summary>
    private static string Advice(TargetKind needed, int outputs) => needed == TargetKind.Values
        ? outputs == 1
            ? " For 0/1 class labels use dataset.ToBinaryTargets() (or pass a float tensor of shape (N, 1))."
            : $" For class labels use dataset.ToOneHotTargets({outputs}), or a label loss such as SparseCategoricalCrossentropy."
        : " Pass integer class labels (an int[]), or use a loss for float targets such as CategoricalCrossentropy (one-hot) or BinaryCrossentropy.";

    /// <summary>Throws if <paramref name="targets"/> does not fit the loss or metric <paramref name="owner"/>, which needs <paramref name="needed"/>.</summary>
    public static void Check(object owner, TargetKind needed, int rows, int outputs, TargetBatch targets, string where, bool checkLabelRange = true)
    {
        // the owner's description is built only on failure, so a passing check allocates nothing
        if (targets.Kind != needed)
            throw new ArgumentException($"{Who(owner)} needs {Describe(needed, outputs)} but {where} has {Describe(targets.Kind, targets.Width)}; nothing was updated.{Advice(needed, outputs)}");
        if (targets.Rows != rows)
            throw new ArgumentException($"{Who(owner)}: {where} has {targets.Rows} target rows for {rows} predictions.");
        if (needed == TargetKind.Labels)
        {
            if (!checkLabelRange) return;
            var labels = targets.Labels;
            for (int r = 0; r < labels.Length; r++)
                if ((uint)labels[r] >= (uint)outputs)
                    throw new ArgumentException($"{Who(owner)}: label {labels[r]} of sample {r} in {where} is out of range for a model with {outputs} outputs (labels must be 0..{outputs - 1}); nothing was updated.");
            return;
        }
        if (targets.Width != outputs)
            throw new ArgumentException($"{Who(owner)}: {where} has {targets.Width} target values per sample but the model outputs {outputs}; nothing was updated.");
        var v = targets.Values;
        if (!Sequential.AllFinite(v))
            for (int i = 0; i < v.Length; i++)
                if (!float.IsFinite(v[i]))
                    throw new ArgumentException($"{Who(owner)}: target [{i / outputs}, {i % outputs}] in {where} is {v[i].ToString(CultureInfo.InvariantCulture)}; targets must be finite. Nothing was updated.");
    }

    /// <summary>"Loss 'mse' (MeanSquaredError)" or "Metric 'precision' (Precision)".</summary>
    public static string Who(object owner) => owner switch
    {
        Loss l => $"Loss '{l.Name}' ({l.GetType().Name})",
        Metric m => $"Metric '{m.Name}' ({m.GetType().Name})",
        _ => owner.ToString() ?? "",
    };

    /// <summary>Checks a whole dataset against the compiled loss and metrics before any work (Fit, Evaluate, TrainOnBatch).</summary>
    /// <remarks>Training data passes <c>checkLabelRange: false</c>: its label ranges are checked per batch by the training loop, which names the epoch and batch.</remarks>
    public static void CheckDataset(Loss loss, IReadOnlyList<Metric> metrics, Dataset data, int outputs, string where, bool checkLabelRange = true)
    {
        var t = data.AllTargets();
        Check(loss, loss.TargetKind, data.Count, outputs, t, where, checkLabelRange);
        for (int i = 0; i < metrics.Count; i++)
            if (metrics[i].TargetKind != loss.TargetKind)
                Check(metrics[i], metrics[i].TargetKind, data.Count, outputs, t, where, checkLabelRange);
    }

    /// <summary>Compile-time check: every metric takes the same kind of targets as the loss.</summary>
    public static void CheckCompatible(Loss loss, IReadOnlyList<Metric> metrics)
    {
        foreach (var m in metrics)
            if (m.TargetKind != loss.TargetKind)
                throw new ArgumentException(
                    $"Metric '{m.Name}' ({m.GetType().Name}) needs {(m.TargetKind == TargetKind.Labels ? "integer class labels" : "float targets")} " +
                    $"but loss '{loss.Name}' ({loss.GetType().Name}) needs {(loss.TargetKind == TargetKind.Labels ? "integer class labels" : "float targets")}; " +
                    "a model is trained on one kind of targets. " +
                    (loss.TargetKind == TargetKind.Values ? "With float targets use BinaryAccuracy, Precision, Recall, MeanAbsoluteErrorMetric or MeanSquaredErrorMetric." : "With class labels use Accuracy or SparseTopKCategoricalAccuracy."),
                    nameof(metrics));
    }
}
