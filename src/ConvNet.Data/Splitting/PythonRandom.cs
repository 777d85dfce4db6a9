namespace ConvNet.Data;

/// <summary>
/// A bit-exact port of CPython's <c>random.Random</c> (the MT19937 Mersenne Twister) for the calls that
/// split-folders makes: <c>seed(int)</c>, <c>random()</c>, <c>getrandbits(k)</c>, <c>_randbelow(n)</c> and
/// <c>shuffle(list)</c>. Seeding an integer follows CPython's <c>init_by_array</c> with the 32-bit words of
/// the seed's absolute value (least significant word first; seed 0 gives the key <c>[0]</c>).
/// </summary>
public sealed class PythonRandom
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908b0dfU;
    private const uint UpperMask = 0x80000000U;
    private const uint LowerMask = 0x7fffffffU;

    private readonly uint[] _mt = new uint[N];
    private int _mti = N + 1;

    /// <summary>Creates a generator seeded like <c>random.seed(seed)</c> in CPython.</summary>
    public PythonRandom(long seed) => Seed(seed);

    /// <summary>Re-seeds like <c>random.seed(seed)</c> for an integer seed.</summary>
    public void Seed(long seed)
    {
        ulong magnitude = seed < 0 ? (ulong)(-(seed + 1)) + 1UL : (ulong)seed;
        uint[] key = magnitude == 0
            ? [0U]
            : magnitude <= uint.MaxValue ? [(uint)magnitude] : [(uint)magnitude, (uint)(magnitude >> 32)];
        InitByArray(key);
    }

    private void InitGenrand(uint s)
    {
        _mt[0] = s;
        for (_mti = 1; _mti < N; _mti++)
            _mt[_mti] = 1812433253U * (_mt[_mti - 1] ^ (_mt[_mti - 1] >> 30)) + (uint)_mti;
    }

    private void InitByArray(uint[] key)
    {
        InitGenrand(19650218U);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint)j;
            i++; j++;
            if (i >= N) { _mt[0] = _mt[N - 1]; i = 1; }
            if (j >= key.Length) j = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1566083941U)) - (uint)i;
            i++;
            if (i >= N) { _mt[0] = _mt[N - 1]; i = 1; }
        }
        _mt[0] = 0x80000000U;
    }

    /// <summary>The next raw 32-bit output of MT19937 (<c>genrand_uint32</c>).</summary>
    public uint NextUInt32()
    {
        if (_mti >= N)
        {
            int kk;
            uint y;
            for (kk = 0; kk < N - M; kk++)
            {
                y = (_mt[kk] & UpperMask) | (_mt[kk + 1] & LowerMask);
                _mt[kk] = _mt[kk + M] ^ (y >> 1) ^ ((y & 1U) != 0 ? MatrixA : 0U);
            }
            for (; kk < N - 1; kk++)
            {
                y = (_mt[kk] & UpperMask) | (_mt[kk + 1] & LowerMask);
                _mt[kk] = _mt[kk + (M - N)] ^ (y >> 1) ^ ((y & 1U) != 0 ? MatrixA : 0U);
            }
            y = (_mt[N - 1] & UpperMask) | (_mt[0] & LowerMask);
            _mt[N - 1] = _mt[M - 1] ^ (y >> 1) ^ ((y & 1U) != 0 ? MatrixA : 0U);
            _mti = 0;
        }
        uint r = _mt[_mti++];
        r ^= r >> 11;
        r ^= (r << 7) & 0x9d2c5680U;
        r ^= (r << 15) & 0xefc60000U;
        r ^= r >> 18;
        return r;
    }

    /// <summary>A float in [0, 1) with 53 random bits, like <c>random.random()</c>.</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary>An integer with <paramref name="k"/> random bits (0 ≤ k ≤ 32), like <c>random.getrandbits(k)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside 0–32.</exception>
    public uint GetRandBits(int k)
    {
        if (k is < 0 or > 32)
            throw new ArgumentOutOfRangeException(nameof(k), $"getrandbits supports 0 to 32 bits here, got {k}.");
        return k == 0 ? 0U : NextUInt32() >> (32 - k);
    }

    /// <summary>A uniform integer in [0, <paramref name="n"/>) by rejection sampling, like CPython's <c>_randbelow</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not positive.</exception>
    public int RandBelow(int n)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n), $"RandBelow needs a positive bound, got {n}.");
        int k = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n); // n.bit_length()
        uint r = GetRandBits(k);
        while (r >= (uint)n) r = GetRandBits(k);
        return (int)r;
    }

    /// <summary>Shuffles in place exactly like <c>random.shuffle(x)</c> (Fisher–Yates from the end).</summary>
    public void Shuffle<T>(IList<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (int i = items.Count - 1; i >= 1; i--)
        {
            int j = RandBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
