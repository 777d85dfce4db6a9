using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary>
/// <c>--verify [iterations]</c>: compares <see cref="Conv"/> with <see cref="ConvReference"/> over random shapes.
/// <see cref="Conv"/> runs whatever this CPU dispatches to (AVX-512, AVX2 or Vector&lt;T&gt;; printed first). Channel
/// counts go beyond 32 and 64 (K up to 81, C sometimes up to 70) so every 16-lane block and masked tail of the
/// AVX-512 kernels is hit on both sides (C is the output side of backward-data's transposed forward).
/// </summary>
public static class Verify
{
    /// <summary>Returns the number of failures (also the process exit code).</summary>
    public static int Run(string[] args)
    {
        int iters = args.Length > 1 && int.TryParse(args[1], out int it) ? it : 3000;
        var rng = new Random(12345);
        int fails = 0, V = System.Numerics.Vector<float>.Count;
        Console.WriteLine($"verify: Conv dispatches to {(ConvAvx512.IsSupported ? "AVX-512 (ConvAvx512)" : ConvAvx2.IsSupported ? "AVX2 (ConvAvx2)" : "Vector<T>")}");
        var fixedShapes = new List<ConvGeometry>();
        foreach (var name in Shapes.Names) fixedShapes.Add(Shapes.Get(name, 2));
        for (int i = 0; i < iters + fixedShapes.Count && fails < 10; i++)
        {
            ConvGeometry g;
            if (i < fixedShapes.Count) g = fixedShapes[i];
            else
            {
                int n = rng.Next(1, 4), h = rng.Next(1, 13), w = rng.Next(1, 13), c = rng.Next(1, 10);
                if (rng.Next(8) == 0) c = rng.Next(10, 71);
                int k = rng.Next(2) == 0 ? rng.Next(1, 3 * V + 2) : rng.Next(1, 82), kh = rng.Next(1, 6), kw = rng.Next(1, 6), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
                var pad = rng.Next(2) == 0 ? Padding.Valid : Padding.Same;
                g = ConvGeometry.Create(n, h, w, c, kh, kw, sh, sw, pad, k);
                if (g.OH <= 0 || g.OW <= 0) continue;
            }
            var x = Rand(rng, g.N * g.InImage); var wt = Rand(rng, g.WeightSize);
            var b = rng.Next(2) == 0 ? Rand(rng, g.K) : [];
            var dy = Rand(rng, g.N * g.OutImage);
            // Forward (y pre-filled with garbage: must be overwritten).
            var y1 = Rand(rng, g.N * g.OutImage); var y2 = new float[y1.Length];
            Conv.ConvForward(g, x, wt, b, y1); ConvReference.ConvForward(g, x, wt, b, y2);
            fails += Check("Forward", g, y1, y2);
            // Backward data (accumulates into a non-zero dx).
            var dx1 = Rand(rng, g.N * g.InImage); var dx2 = (float[])dx1.Clone();
            Conv.ConvBackwardData(g, dy, wt, dx1); ConvReference.ConvBackwardData(g, dy, wt, dx2);
            fails += Check("BackwardData", g, dx1, dx2);
            // Backward filter (accumulates into non-zero dw / dbias).
            var dw1 = Rand(rng, g.WeightSize); var dw2 = (float[])dw1.Clone();
            var db1 = rng.Next(2) == 0 ? Rand(rng, g.K) : []; var db2 = (float[])db1.Clone();
            Conv.ConvBackwardFilter(g, x, dy, dw1, db1); ConvReference.ConvBackwardFilter(g, x, dy, dw2, db2);
            fails += Check("BackwardFilter.dw", g, dw1, dw2);
            fails += Check("BackwardFilter.db", g, db1, db2);
        }
        Console.WriteLine(fails == 0 ? $"verify: OK ({iters} random shapes + lecture shapes)" : $"verify: {fails} FAILURES");
        return fails;
    }

    private static float[] Rand(Random r, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    private static int Check(string what, in ConvGeometry g, float[] got, float[] want)
    {
        double maxAbs = 0; foreach (var v in want) maxAbs = Math.Max(maxAbs, Math.Abs(v));
        for (int i = 0; i < got.Length; i++)
        {
            double err = Math.Abs(got[i] - want[i]);
            if (!(err <= 1e-4 * Math.Max(1.0, Math.Abs(want[i])) + 1e-5 * maxAbs))
            {
                Console.WriteLine($"{what} mismatch at {i}: got {got[i]}, want {want[i]} — {g}");
                return 1;
            }
        }
        return 0;
    }
}
