namespace ConvNet;

/// <summary>
/// A small seeded random generator (SplitMix64) whose sequence never changes across .NET versions,
/// so seeded initialisation and shuffling are reproducible everywhere.
/// </summary>
public sealed class Rng
{
    private ulong _state;

    /// <summary>Creates a generator from a seed.</summary>
    public Rng(long seed) => _state = (ulong)seed ^ 0x9E3779B97F4A7C15UL;

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform float in [lo, hi).</summary>
    public float Uniform(float lo, float hi) => (float)(lo + (hi - lo) * NextDouble());

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"n must be positive, got {n}.");
        return (int)((NextUInt64() >> 33) % (ulong)n);
    }

    /// <summary>Standard normal sample (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
