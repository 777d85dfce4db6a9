using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvNet.Onnx.Tests;

/// <summary>Runs ONNX models in ONNX Runtime (the reference) and compares outputs.</summary>
internal static class Ort
{
    /// <summary>Runs a single-input model on <paramref name="x"/> (dims as the graph expects) and returns the first output.</summary>
    public static (float[] Data, int[] Dims) Run(byte[] model, float[] x, int[] dims)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        return Run(session, x, dims);
    }

    public static (float[] Data, int[] Dims) Run(string path, float[] x, int[] dims)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(path, options);
        return Run(session, x, dims);
    }

    public static (float[] Data, int[] Dims) Run(InferenceSession session, float[] x, int[] dims)
    {
        var name = session.InputMetadata.Keys.Single();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(x, dims))]);
        var t = results.First().AsTensor<float>();
        return (t.ToArray(), t.Dimensions.ToArray());
    }

    /// <summary>max |a − b| / max |b| (b is the reference), and max |a − b|.</summary>
    public static (double Relative, double Abs) Diff(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxAbs = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            maxAbs = Math.Max(maxAbs, Math.Abs(actual[i] - (double)expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }
        return (maxRef == 0 ? maxAbs : maxAbs / maxRef, maxAbs);
    }
}

/// <summary>Deterministic test data and NHWC ⇄ NCHW helpers.</summary>
internal static class TestData
{
    public static float[] Random(int n, int seed, float lo = -1f, float hi = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)r.NextDouble();
        return a;
    }

    /// <summary>Gives every parameter (biases included) random values so that nothing is tested against zeros.</summary>
    public static void RandomizeWeights(Model model, int seed, float scale = 0.3f)
    {
        int i = 0;
        foreach (var p in model.Parameters)
            Random(p.Value.Length, seed * 100 + i++, -scale, scale).CopyTo(p.Value.Span);
    }

    public static float[] NhwcToNchw(ReadOnlySpan<float> x, int n, int h, int w, int c)
    {
        var o = new float[x.Length];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < h; y++)
                for (int z = 0; z < w; z++)
                    for (int k = 0; k < c; k++)
                        o[((b * c + k) * h + y) * w + z] = x[((b * h + y) * w + z) * c + k];
        return o;
    }

    public static float[] NchwToNhwc(ReadOnlySpan<float> x, int n, int c, int h, int w)
    {
        var o = new float[x.Length];
        for (int b = 0; b < n; b++)
            for (int k = 0; k < c; k++)
                for (int y = 0; y < h; y++)
                    for (int z = 0; z < w; z++)
                        o[((b * h + y) * w + z) * c + k] = x[((b * c + k) * h + y) * w + z];
        return o;
    }
}
