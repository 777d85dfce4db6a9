namespace ConvNet;

/// <summary>
/// Samples and integer labels held in memory: <see cref="X"/> is (N, …) — images are NHWC —
/// and <see cref="Y"/> has N class indices. Data loaders return this type, so it feeds
/// <c>Sequential.Fit</c>/<c>Evaluate</c> without a second copy.
/// </summary>
public class Dataset
{
    /// <summary>Creates a dataset; <paramref name="x"/>'s first dimension must equal <paramref name="y"/>'s length.</summary>
    public Dataset(Tensor x, int[] y, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Shape[0] != y.Length)
            throw new ArgumentException($"The dataset has {x.Shape[0]} samples in x {x.Shape} but {y.Length} labels.");
        X = x;
        Y = y;
        ClassNames = classNames ?? [];
    }

    /// <summary>Samples, (N, …).</summary>
    public Tensor X { get; }

    /// <summary>Class index of each sample.</summary>
    public int[] Y { get; }

    /// <summary>Class names in label order (may be empty).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Y.Length;

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
