namespace ConvNet;

/// <summary>
/// Samples and their targets held in memory: <see cref="X"/> is (N, …) — images are NHWC — and the targets are either
/// N integer class labels (<see cref="Y"/>, for <see cref="SparseCategoricalCrossentropy"/>) or float targets
/// (<see cref="Targets"/>, (N, outputs), for regression, binary and one-hot losses). Data loaders return this type,
/// so it feeds <c>Sequential.Fit</c>/<c>Evaluate</c> without a second copy.
/// </summary>
public class Dataset
{
    private readonly int[]? _labels;

    /// <summary>Creates a dataset with class labels; <paramref name="x"/>'s first dimension must equal <paramref name="y"/>'s length.</summary>
    public Dataset(Tensor x, int[] y, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Shape.Rank == 0 || x.Shape[0] != y.Length)
            throw new ArgumentException($"The dataset has {(x.Shape.Rank == 0 ? 0 : x.Shape[0])} samples in x {x.Shape} but {y.Length} labels.");
        X = x;
        _labels = y;
        ClassNames = classNames ?? [];
    }

    /// <summary>
    /// Creates a dataset with float targets: <paramref name="targets"/> is (N,) or (N, outputs) — e.g. (N, 1) for
    /// regression or binary 0/1 targets, (N, classes) one-hot for <see cref="CategoricalCrossentropy"/>. (N,) means (N, 1), as in Keras.
    /// </summary>
    public Dataset(Tensor x, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(targets);
        if (x.Shape.Rank == 0 || targets.Shape.Rank == 0 || x.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"The dataset has {(x.Shape.Rank == 0 ? 0 : x.Shape[0])} samples in x {x.Shape} but targets of shape {targets.Shape}; their first dimensions must match.");
        X = x;
        Targets = targets;
        int n = targets.Shape[0];
        TargetWidth = n == 0 ? 1 : targets.Length / n;
        if (TargetWidth == 0) throw new ArgumentException($"Targets of shape {targets.Shape} have no values per sample.", nameof(targets));
        ClassNames = [];
    }

    /// <summary>Samples, (N, …).</summary>
    public Tensor X { get; }

    /// <summary>Class index of each sample.</summary>
    /// <exception cref="InvalidOperationException">The dataset has float <see cref="Targets"/> instead.</exception>
    public int[] Y => _labels ?? throw new InvalidOperationException(
        $"This dataset has float targets (Targets, shape {Targets!.Shape}), not integer class labels (Y).");

    /// <summary>Float targets, (N, …) with <see cref="TargetWidth"/> values per sample; null when the dataset has class labels.</summary>
    public Tensor? Targets { get; }

    /// <summary>Whether the targets are class labels (<see cref="Y"/>) or floats (<see cref="Targets"/>).</summary>
    public TargetKind TargetKind => _labels is null ? TargetKind.Values : TargetKind.Labels;

    /// <summary>Target values per sample: 1 for class labels, the product of the non-batch dimensions of <see cref="Targets"/> otherwise.</summary>
    public int TargetWidth { get; } = 1;

    /// <summary>Class names in label order (may be empty).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of samples.</summary>
    public int Count => X.Shape[0];

    /// <summary>
    /// The same samples with 0/1 class labels as float targets of shape (N, 1), for <see cref="BinaryCrossentropy"/>
    /// (Keras casts integer labels to float for this loss; ConvNet asks for the conversion so a mix-up cannot pass silently).
    /// </summary>
    /// <exception cref="InvalidOperationException">A label is not 0 or 1, or the dataset already has float targets.</exception>
    public Dataset ToBinaryTargets()
    {
        var y = Y;
        var t = new Tensor(y.Length, 1);
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] is not (0 or 1)) throw new InvalidOperationException($"ToBinaryTargets: label {y[i]} of sample {i} is not 0 or 1.");
            t.Span[i] = y[i];
        }
        return new Dataset(X, t);
    }

    /// <summary>The same samples with class labels as one-hot float targets (N, <paramref name="classes"/>), for <see cref="CategoricalCrossentropy"/>.</summary>
    /// <param name="classes">Number of classes; default: <see cref="ClassNames"/>' count if set, else the largest label + 1.</param>
    /// <exception cref="InvalidOperationException">A label is outside [0, classes), or the dataset already has float targets.</exception>
    public Dataset ToOneHotTargets(int? classes = null)
    {
        var y = Y;
        int k = classes ?? (ClassNames.Count > 0 ? ClassNames.Count : (y.Length == 0 ? 1 : y.Max() + 1));
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(classes), $"classes must be positive, got {k}.");
        var t = new Tensor(y.Length, k);
        for (int i = 0; i < y.Length; i++)
        {
            if ((uint)y[i] >= (uint)k) throw new InvalidOperationException($"ToOneHotTargets: label {y[i]} of sample {i} is outside [0, {k}).");
            t.Span[i * k + y[i]] = 1;
        }
        return new Dataset(X, t);
    }

    /// <summary>The targets of samples [start, start + count) as a view.</summary>
    internal TargetBatch TargetsOf(int start, int count) => _labels is not null
        ? TargetBatch.FromLabels(_labels.AsSpan(start, count))
        : TargetBatch.FromValues(Targets!.Span.Slice(start * TargetWidth, count * TargetWidth), TargetWidth);

    /// <summary>All targets as a view.</summary>
    internal TargetBatch AllTargets() => TargetsOf(0, Count);

    /// <summary>
    /// The sample order of one epoch: 0..N−1, or a Fisher–Yates shuffle seeded by
    /// (<paramref name="seed"/>, <paramref name="epoch"/>) so every epoch differs but reruns repeat.
    /// </summary>
    public static int[] EpochOrder(int count, bool shuffle, int seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        if (shuffle)
        {
            new Rng(seed * 1_000_003L + epoch).Shuffle(order.AsSpan());
        }
        return order;
    }
}
