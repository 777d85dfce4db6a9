namespace ConvNet.Data.Mandarin;

/// <summary>
/// A tiny, fully specified pseudo-random generator (SplitMix64, Steele/Lea/Flood 2014) so that the
/// generated data set never depends on the algorithm behind <see cref="System.Random"/>.
/// </summary>
internal struct SplitMix64
{
    private ulong _state;
    private double _spareGaussian;
    private bool _hasSpare;

    public SplitMix64(ulong seed)
    {
        _state = seed;
        _spareGaussian = 0;
        _hasSpare = false;
    }

    /// <summary>The SplitMix64 finaliser: a good 64-bit hash.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>FNV-1a hash of a string's UTF-16 code units (stable across runs and platforms).</summary>
    public static ulong Hash(string s)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in s)
        {
            h ^= c;
            h *= 0x100000001B3UL;
        }
        return h;
    }

    public ulong NextULong()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform in [−a, a).</summary>
    public double Symmetric(double a) => a * (2.0 * NextDouble() - 1.0);

    /// <summary>True with probability p.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal variate (Box–Muller).</summary>
    public double Gaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareGaussian;
        }
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double a = 2.0 * Math.PI * u2;
        _spareGaussian = r * Math.Sin(a);
        _hasSpare = true;
        return r * Math.Cos(a);
    }
}
