using ConvNet.Kernels;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// <see cref="Conv"/> on every kernel backend the CPU runs (the AVX-512 tiles of <see cref="ConvAvx512"/>, the AVX2 tiles
/// of <see cref="ConvAvx2"/>, the portable Vector&lt;T&gt; code) against <see cref="ConvReference"/>: every 16-lane channel tail on both sides (K and C up to 64 + 17, so the
/// 64-, 32-, 16-channel blocks and every masked 1..15 tail run, for forward, backward-filter and — through the
/// transposed-weight forward — backward-data), border/interior splits, all tile widths, strides and paddings.
/// </summary>
public class ConvTileSweepTests
{
    /// <summary>Every output-channel count 1..81 (64 + 16 + 1), small input channel counts, 3×3 Same and 2×3 Valid stride 2.</summary>
    [Theory, Backends]
    public void EveryOutputChannelTail(string backend)
    {
        var b = KernelBackendTests.Parse(backend);
        int seed = 1;
        for (int k = 1; k <= 81; k++)
        {
            KernelEquivalenceTests.CompareConv(b, 2, 7, 9, 1 + k % 5, k, 3, 3, 1, 1, Padding.Same, k % 2 == 0, seed++);
            KernelEquivalenceTests.CompareConv(b, 1, 6, 8, 2 + k % 3, k, 2, 3, 2, 2, Padding.Valid, k % 2 == 1, seed++);
        }
    }

    /// <summary>
    /// Every input-channel count 1..81: for stride 1 this is the output-channel count of backward-data's transposed
    /// forward (C ≥ 8), so its 16-lane tails are covered too.
    /// </summary>
    [Theory, Backends]
    public void EveryInputChannelTail(string backend)
    {
        var b = KernelBackendTests.Parse(backend);
        int seed = 1000;
        for (int c = 1; c <= 81; c++)
        {
            KernelEquivalenceTests.CompareConv(b, 1, 6, 7, c, 1 + c % 19, 3, 3, 1, 1, Padding.Same, c % 2 == 0, seed++);
            KernelEquivalenceTests.CompareConv(b, 2, 5, 9, c, 16 + c % 3, 3, 2, 1, 1, Padding.Valid, c % 2 == 1, seed++);
        }
    }

    /// <summary>Lecture-like channel counts at every row width 1..14 (every tile width and border split) and kernel 1..5, strides 1..3.</summary>
    [Theory, Backends]
    public void LectureChannelCountsAllWidthsKernelsStrides(string backend)
    {
        var b = KernelBackendTests.Parse(backend);
        int seed = 5000;
        foreach (var (c, k) in new[] { (1, 16), (16, 32), (32, 64), (64, 64), (17, 33) })
        for (int w = 1; w <= 14; w++)
        {
            int kk = 1 + w % 5, s = 1 + w % 3;
            KernelEquivalenceTests.CompareConv(b, 1, 1 + w % 4 + kk, w, c, k, kk, Math.Min(kk, w), 1, 1, Padding.Same, w % 2 == 0, seed++);
            KernelEquivalenceTests.CompareConv(b, 2, 5, w, c, k, 3, Math.Min(3, w), s, s, w % 2 == 0 ? Padding.Same : Padding.Valid, true, seed++);
        }
    }

    /// <summary>
    /// 3-wide kernels with stride 1 at every row width 1..30: the 12-pixel broadcast-sharing forward tiles (16-channel
    /// blocks: conv1 forward, conv2 backward-data) with every tile split, and the one-input-channel backward-filter tiles.
    /// </summary>
    [Theory, Backends]
    public void ThreeWideStrideOneAllWidths(string backend)
    {
        var b = KernelBackendTests.Parse(backend);
        int seed = 9000;
        foreach (var (c, k) in new[] { (1, 16), (1, 21), (1, 40), (16, 32), (3, 5), (20, 7), (9, 17) })
        for (int w = 1; w <= 30; w++)
        {
            KernelEquivalenceTests.CompareConv(b, 2, 4, w, c, k, 3, 3, 1, 1, Padding.Same, w % 2 == 0, seed++);
            if (w >= 3) KernelEquivalenceTests.CompareConv(b, 1, 5, w, c, k, 2, 3, 1, 1, Padding.Valid, w % 2 == 1, seed++);
        }
    }

    /// <summary>A random sweep like <c>--verify</c>: batch 1–3, H/W 1–12, C 1–9 (sometimes up to 70), K 1–81, kernels 1–5, strides 1–3.</summary>
    [Theory, Backends]
    public void RandomSweep(string backend)
    {
        var b = KernelBackendTests.Parse(backend);
        var rng = new Random(4242);
        for (int i = 0; i < 400; i++)
        {
            int h = rng.Next(1, 13), w = rng.Next(1, 13);
            int c = rng.Next(6) == 0 ? rng.Next(10, 71) : rng.Next(1, 10);
            int k = rng.Next(2) == 0 ? rng.Next(1, 26) : rng.Next(1, 82);
            var pad = rng.Next(2) == 0 ? Padding.Valid : Padding.Same;
            int kh = rng.Next(1, 6), kw = rng.Next(1, 6);
            if (pad == Padding.Valid && (kh > h || kw > w)) continue;
            KernelEquivalenceTests.CompareConv(b, rng.Next(1, 4), h, w, c, k, kh, kw, rng.Next(1, 4), rng.Next(1, 4), pad, rng.Next(2) == 0, rng.Next());
        }
    }
}
