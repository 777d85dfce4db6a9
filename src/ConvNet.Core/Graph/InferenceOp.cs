namespace ConvNet;

/// <summary>
/// A step of the inference plan that replaces one or more layer calls (e.g. conv+BN+add+ReLU) with one parallel pass. It
/// writes into the plan's output buffer and never allocates after the first call for a batch size. Built by
/// <see cref="InferenceRewrite"/>; the layers keep their parameters and are read on every call, so a change to them is seen.
/// </summary>
internal abstract class InferenceOp
{
    /// <summary>Computes the step's output for <paramref name="inputs"/> into <paramref name="output"/> and returns it.</summary>
    internal abstract Tensor Forward(Tensor[] inputs, Tensor output);

    /// <summary>Chunks for <see cref="Threading.WorkerPool.RunChunks(int, int, Action{int, int, int})"/>: a few per thread, so that a thread that starts late
    /// (a busy machine) finds the work done by the others instead of holding everyone up.</summary>
    internal static int Chunks(Layer layer, int units, long multiplyAdds) =>
        layer.Threads == 1 || multiplyAdds < MinParallelWork ? 1 : Math.Min(units, 4 * layer.Threads);

    /// <summary>Multiply-adds below which a step runs on the calling thread (a fork-join would cost more than it saves). Only the
    /// schedule depends on it, never the results (tests set it to 0 to split even tiny steps).</summary>
    internal static long MinParallelWork { get; set; } = 100_000;

    /// <summary>Throws unless <paramref name="x"/> is a batch of <paramref name="sample"/>.</summary>
    private protected static void RequireInput(Layer layer, Tensor x, IReadOnlyList<int> sample)
    {
        if (!Layer.IsBatchOf(x.Shape, sample))
            throw new LayerShapeException(layer.Name, Layer.Fmt(sample, true), x.Shape.ToString(),
                $"Layer '{layer.Name}' ({layer.TypeName}): expected input shape {Layer.Fmt(sample, true)}, got {x.Shape}.");
    }
}
