namespace ConvNet;

/// <summary>
/// Builds the inference steps of an <see cref="ExecutionPlan"/> from its (training) steps, for calls with
/// <c>training: false</c>:
/// <list type="bullet">
/// <item>[ZeroPadding2D →] Conv2D [→ BatchNormalization] [→ Add] [→ ReLU] becomes one <see cref="FusedConvEpilogue"/> step
/// when each intermediate value has that one consumer (the padding folds into the conv's pads, the BN into a scale and shift);</item>
/// <item>fused conv+pool steps become <see cref="BandedConvPool"/> (split over rows, not images);</item>
/// <item>Dense (linear or ReLU) becomes <see cref="DenseByUnits"/> (split over output units at small batches).</item>
/// </list>
/// Value numbers are kept: a fused step produces the value of its last layer, and the values it skips are never computed.
/// A merged step runs at the position of its last layer, where all its inputs exist.
/// </summary>
internal static class InferenceRewrite
{
    internal static ExecutionPlan.Step[] Rewrite(IReadOnlyList<ExecutionPlan.Step> steps, int[] consumers, int outputValue)
    {
        var consumerOf = new Dictionary<int, int>();    // value → the index of its only consuming step
        var producerOf = new Dictionary<int, int>();    // value → index of the producing step
        for (int s = 0; s < steps.Count; s++)
        {
            producerOf[steps[s].Output] = s;
            foreach (int v in steps[s].Inputs) if (consumers[v] == 1) consumerOf[v] = s;
        }
        var merged = new bool[steps.Count];
        var result = new SortedDictionary<int, ExecutionPlan.Step>();
        for (int s = 0; s < steps.Count; s++)
        {
            if (merged[s]) continue;
            var step = steps[s];
            if (step.Fused is { } fp && BandedConvPool.Supports(fp.Conv, fp.Pool))
                result[s] = With(step, step.Name, step.Layer, step.Inputs, step.Output, new BandedConvPool(fp.Conv, fp.Pool));
            else if (step.Fused is null && step.Layer is Dense dense && DenseByUnits.Supports(dense))
                result[s] = With(step, step.Name, dense, step.Inputs, step.Output, new DenseByUnits(dense));
            else if (step.Fused is null && step.Layer is MaxPooling2D pool)
                PoolStep(steps, s, pool, consumers, producerOf, outputValue, result);
            else if (step.Fused is null && step.Layer is Conv2D conv && FusedConvEpilogue.Supports(conv))
                FuseConv(steps, s, conv, consumers, consumerOf, producerOf, outputValue, merged, result);
            else result[s] = step;
        }
        return [.. result.Values];
    }

    // A max pool split over rows; a zero padding before it folds in when its input is ≥ 0 (a ReLU's output).
    private static void PoolStep(IReadOnlyList<ExecutionPlan.Step> steps, int s, MaxPooling2D pool, int[] consumers, Dictionary<int, int> producerOf,
        int outputValue, SortedDictionary<int, ExecutionPlan.Step> result)
    {
        var step = steps[s];
        int v = step.Inputs[0];
        if (producerOf.TryGetValue(v, out int p) && steps[p].Layer is ZeroPadding2D z && steps[p].Fused is null && consumers[v] == 1 && v != outputValue &&
            result.TryGetValue(p, out var emitted) && ReferenceEquals(emitted, steps[p]) && NonNegative(steps[p].Inputs[0]) && BandedMaxPool.CanFold(pool, z))
        {
            result.Remove(p);
            result[s] = With(step, $"{z.Name}+{pool.Name} (fused)", pool, steps[p].Inputs, step.Output, new BandedMaxPool(pool, z));
            return;
        }
        result[s] = With(step, step.Name, pool, step.Inputs, step.Output, new BandedMaxPool(pool, null));

        bool NonNegative(int value)
        {
            if (!producerOf.ContainsKey(value)) return false;
            var producer = result.Values.FirstOrDefault(r => r.Output == value);
            return producer is { Op: FusedConvEpilogue { Relu: true } } ||
                producer is { Op: null, Fused: null, Layer: ActivationLayer { Activation: Activation.Relu } or Conv2D { Activation: Activation.Relu } };
        }
    }

    private static void FuseConv(IReadOnlyList<ExecutionPlan.Step> steps, int s, Conv2D conv, int[] consumers, Dictionary<int, int> consumerOf,
        Dictionary<int, int> producerOf, int outputValue, bool[] merged, SortedDictionary<int, ExecutionPlan.Step> result)
    {
        var step = steps[s];
        int[] inputs = step.Inputs;
        ZeroPadding2D? pad = null;
        // A zero padding read only by this conv: fold it (the padding step was emitted already; drop it).
        if (producerOf.TryGetValue(step.Inputs[0], out int p) && steps[p].Layer is ZeroPadding2D z && steps[p].Fused is null &&
            consumers[step.Inputs[0]] == 1 && step.Inputs[0] != outputValue && result.TryGetValue(p, out var emitted) && ReferenceEquals(emitted, steps[p]))
        {
            pad = z;
            inputs = steps[p].Inputs;
            result.Remove(p);
        }
        int cur = step.Output, last = s;
        string name = (pad is null ? "" : pad.Name + "+") + conv.Name;
        BatchNormalization? bn = null;
        bool relu = conv.Activation == Activation.Relu, residual = false;
        if (!relu && Next(cur) is int b && steps[b].Layer is BatchNormalization bnl && steps[b].Training != true && IsChannelAxis(bnl))
        {
            bn = bnl; cur = steps[b].Output; last = b; merged[b] = true; name += "+" + bnl.Name;
        }
        // An Add whose other input already exists when the conv runs (a shortcut computed later takes the Add itself).
        if (!relu && Next(cur) is int a && steps[a].Layer is Add add && steps[a].Inputs.Length == 2 && steps[a].Inputs[0] != steps[a].Inputs[1] &&
            Other(steps[a], cur) is int other && (other == 0 || producerOf[other] < s))
        {
            inputs = [inputs[0], other];
            residual = true; cur = steps[a].Output; last = a; merged[a] = true; name += "+" + add.Name;
        }
        if (!relu && Next(cur) is int r && steps[r].Layer is ActivationLayer { Activation: Activation.Relu } act)
        {
            relu = true; cur = steps[r].Output; last = r; merged[r] = true; name += "+" + act.Name;
        }
        result[last] = With(steps[last], last == s && pad is null ? step.Name : name + " (fused)", steps[last].Layer, inputs, cur,
            new FusedConvEpilogue(conv, pad, bn, residual, relu));

        int? Next(int v) => v != outputValue && consumers[v] == 1 && consumerOf.TryGetValue(v, out int c) && steps[c].Fused is null && !merged[c] ? c : null;
        static int Other(ExecutionPlan.Step add, int v) => add.Inputs[0] == v ? add.Inputs[1] : add.Inputs[0];
    }

    private static bool IsChannelAxis(BatchNormalization bn) => bn.InputShape!.Count == 3 && (bn.Axis == -1 || bn.Axis == 3);

    private static ExecutionPlan.Step With(ExecutionPlan.Step step, string name, Layer layer, int[] inputs, int output, InferenceOp op) =>
        new(name, layer, null, inputs, output, step.Training) { Op = op };
}
