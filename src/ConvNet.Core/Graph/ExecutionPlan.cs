using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>
/// A model's graph compiled into steps in topological order. Values are numbered: 0 is the model input, each step
/// produces one. The plan decides fusion (a <see cref="Conv2D"/> whose only consumer is a fusable
/// <see cref="MaxPooling2D"/> becomes one <see cref="FusedConvPool"/> step), sums gradients where one value feeds several
/// steps, skips the backward of steps that nothing trainable depends on, and in inference reuses output buffers by
/// liveness. Calls with <c>training: false</c> run the steps of <see cref="InferenceRewrite"/> (BN folded, fused conv
/// epilogues, row- and channel-parallel small batches). After the first call for a batch size it allocates nothing.
/// </summary>
internal sealed class ExecutionPlan
{
    /// <summary>One step: a layer call, or a fused conv+pool pair.</summary>
    internal sealed class Step
    {
        internal Step(string name, Layer layer, FusedConvPool? fused, int[] inputs, int output, bool? training)
        {
            Name = name; Layer = layer; Fused = fused; Inputs = inputs; Output = output; Training = training;
            InputTensors = new Tensor[inputs.Length];
            InputGradients = new Tensor?[inputs.Length];
        }

        /// <summary>Display name: the layer's, or <c>conv+pool (fused)</c>.</summary>
        internal string Name { get; }
        /// <summary>The layer (for a fused step, the pool whose output the step produces).</summary>
        internal Layer Layer { get; }
        /// <summary>The fused pair, or null.</summary>
        internal FusedConvPool? Fused { get; }
        /// <summary>Value indices consumed, in call order.</summary>
        internal int[] Inputs { get; }
        /// <summary>Value index produced.</summary>
        internal int Output { get; }
        /// <summary>The call's training override (null: follow the model).</summary>
        internal bool? Training { get; }
        /// <summary>Number of layers the step runs (2 when fused).</summary>
        internal int LayerCount => Fused is null ? 1 : 2;
        /// <summary>The first layer the step runs (the conv when fused).</summary>
        internal Layer FirstLayer => Fused?.Conv ?? Layer;
        /// <summary>True if training updates any parameter of the step.</summary>
        internal bool HasTrainableParameters => Fused is null ? Layer.HasTrainableParameters : Fused.Conv.HasTrainableParameters;

        internal Tensor[] InputTensors { get; }      // gathered inputs (reused)
        internal Tensor?[] InputGradients { get; }   // dL/d(inputs) from the last backward (reused)

        /// <summary>An inference-plan op replacing the layer call (see <see cref="InferenceRewrite"/>), or null.</summary>
        internal InferenceOp? Op { get; init; }

        /// <summary>Runs the step on its gathered inputs.</summary>
        internal Tensor Forward(bool training, bool record) =>
            Op is not null ? Op.Forward(InputTensors, Layer.PlannedOutput!) :
            Fused is not null ? Fused.Forward(InputTensors[0]) : Layer.ForwardNode(InputTensors, Training ?? training, record);

        /// <summary>Backward of the step: fills <see cref="InputGradients"/>.</summary>
        internal void Backward(Tensor dy)
        {
            if (Fused is not null) InputGradients[0] = Fused.Backward(dy);
            else Layer.BackwardNode(dy, InputGradients);
        }
    }

    // Per batch size: inference buffers (liveness slots), their cached views, and gradient accumulators.
    private sealed class BatchState
    {
        internal readonly List<float[]> Slots = [];
        internal readonly List<int> SlotUsers = [];
        internal Tensor?[] Views = [];        // per step: its output view on a slot
        internal int[] StepSlot = [];         // per step: the slot it used last time (reused: same choices every call)
        internal Tensor?[] Accumulators = []; // per value with several consumers: summed gradient
    }

    private readonly Step[] _steps;
    private readonly Step[] _inference;        // the steps of calls with training: false (InferenceRewrite)
    private readonly int[] _consumers, _inferenceConsumers;        // per value: number of consuming inputs (an input used twice counts twice)
    private readonly int[] _sampleSize;       // per value: elements per sample
    private readonly IReadOnlyList<int>[] _sampleShape;
    private readonly Tensor?[] _values, _grads;
    private readonly bool[] _needsGrad;
    private readonly int[] _remaining, _slotOf, _contributions;
    private readonly Dictionary<int, BatchState> _batches = [], _inferenceBatches = [];

    /// <summary>Compiles the graph from <paramref name="input"/> to <paramref name="output"/>; <paramref name="tensors"/> holds
    /// every tensor of the graph in topological order (the input first).</summary>
    internal ExecutionPlan(IReadOnlyList<SymbolicTensor> tensors, SymbolicTensor input, SymbolicTensor output, bool fusion)
    {
        var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        var consumersOf = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
            foreach (var i in t.Inputs) consumersOf[i] = consumersOf.GetValueOrDefault(i) + 1;
        index[input] = 0;
        var shapes = new List<IReadOnlyList<int>> { input.Shape };
        var steps = new List<Step>();
        var fusedPools = new HashSet<SymbolicTensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
        {
            if (ReferenceEquals(t, input) || fusedPools.Contains(t)) continue;
            if (fusion && t.Layer is Conv2D conv && !ReferenceEquals(t, output) && consumersOf.GetValueOrDefault(t) == 1 &&
                tensors.FirstOrDefault(c => c.Inputs.Length == 1 && ReferenceEquals(c.Inputs[0], t)) is { Layer: MaxPooling2D pool } pooled &&
                pooled.Training == t.Training && FusedConvPool.CanFuse(conv, pool))
            {
                // Conv2D → MaxPooling2D with nothing else reading the conv output: one fused step producing the pooled value.
                index[pooled] = shapes.Count;
                shapes.Add(pooled.Shape);
                steps.Add(new Step($"{conv.Name}+{pool.Name} (fused)", pool, new FusedConvPool(conv, pool), [index[t.Inputs[0]]], index[pooled], t.Training));
                fusedPools.Add(pooled);
                continue;
            }
            var inputs = new int[t.Inputs.Length];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = index[t.Inputs[i]];
            index[t] = shapes.Count;
            shapes.Add(t.Shape);
            steps.Add(new Step(t.Layer.Name, t.Layer, null, inputs, index[t], t.Training));
        }
        _steps = [.. steps];
        OutputValue = index[output];
        int values = shapes.Count;
        _sampleShape = [.. shapes];
        _sampleSize = shapes.Select(s => s.Aggregate(1, (a, b) => checked(a * b))).ToArray();
        _consumers = new int[values];
        foreach (var s in _steps) foreach (int v in s.Inputs) _consumers[v]++;
        _values = new Tensor?[values];
        _grads = new Tensor?[values];
        _needsGrad = new bool[values];
        _remaining = new int[values];
        _slotOf = new int[values];
        _contributions = new int[values];
        _inference = fusion ? InferenceRewrite.Rewrite(_steps, _consumers, OutputValue) : _steps;
        _inferenceConsumers = new int[values];
        foreach (var s in _inference) foreach (int v in s.Inputs) _inferenceConsumers[v]++;
    }

    /// <summary>The steps in execution order.</summary>
    internal IReadOnlyList<Step> Steps => _steps;

    /// <summary>The steps of inference calls (training: false), after the inference rewrites.</summary>
    internal IReadOnlyList<Step> InferenceSteps => _inference;

    /// <summary>Benchmark hook: when set, recorded forward and backward passes time each step with this clock (milliseconds)
    /// into <see cref="ForwardMs"/> and <see cref="BackwardMs"/> (0 for a skipped backward).</summary>
    internal Func<double>? StepClock { get; set; }

    /// <summary>Per step: the time of the last recorded forward (see <see cref="StepClock"/>).</summary>
    internal double[] ForwardMs { get; private set; } = [];

    /// <summary>Per step: the time of the last backward (see <see cref="StepClock"/>).</summary>
    internal double[] BackwardMs { get; private set; } = [];

    /// <summary>The value index of the model output.</summary>
    internal int OutputValue { get; }

    /// <summary>Number of inference buffers in use for batch size <paramref name="n"/> (0 before the first inference call).</summary>
    internal int InferenceBufferCount(int n) => (_inferenceBatches.TryGetValue(n, out var b) || _batches.TryGetValue(n, out b)) ? b.Slots.Count : 0;

    /// <summary>Floats held by the inference buffers for batch size <paramref name="n"/>.</summary>
    internal long InferenceBufferFloats(int n) => (_inferenceBatches.TryGetValue(n, out var b) || _batches.TryGetValue(n, out b)) ? b.Slots.Sum(s => (long)s.Length) : 0;

    private BatchState Batch(int n, bool rewritten = false)
    {
        var batches = rewritten ? _inferenceBatches : _batches;
        int count = rewritten ? _inference.Length : _steps.Length;
        if (!batches.TryGetValue(n, out var b))
        {
            batches[n] = b = new BatchState { Views = new Tensor?[count], StepSlot = new int[count], Accumulators = new Tensor?[_values.Length] };
            Array.Fill(b.StepSlot, -1);
        }
        return b;
    }

    /// <summary>
    /// Forward pass of a batch. <paramref name="record"/> true keeps every layer's activations for a backward pass; false
    /// (inference) offers each layer an output buffer whose previous value is dead (liveness), so memory does not grow
    /// with depth. Returns the output value (owned by a layer or the plan).
    /// </summary>
    internal Tensor Forward(Tensor x, bool training, bool record)
    {
        Array.Clear(_values);
        _values[0] = x;
        if (record)
        {
            var clock = StepClock;
            if (clock is not null && ForwardMs.Length != _steps.Length) ForwardMs = new double[_steps.Length];
            for (int s = 0; s < _steps.Length; s++)
            {
                var step = _steps[s];
                Gather(step);
                double t0 = clock?.Invoke() ?? 0;
                _values[step.Output] = step.Forward(training, record: true);
                if (clock is not null) ForwardMs[s] = clock() - t0;
            }
        }
        else ForwardInference(x.Shape[0], training);
        var y = _values[OutputValue]!;
        Array.Clear(_values);
        return y;
    }

    private void Gather(Step step)
    {
        for (int i = 0; i < step.Inputs.Length; i++) step.InputTensors[i] = _values[step.Inputs[i]]!;
    }

    // Inference: a slot is a float[] shared over time by values whose lifetimes do not overlap. A value holds its slot until
    // its last consumer ran; outputs that alias a slot (views such as Flatten) hold it too, so aliasing is always safe.
    private void ForwardInference(int n, bool training)
    {
        // training: false runs the rewritten steps (fused epilogues, BN folded); training: true keeps the layers' own calls.
        var steps = training ? _steps : _inference;
        var b = Batch(n, rewritten: !training);
        Array.Copy(training ? _consumers : _inferenceConsumers, _remaining, _remaining.Length);
        Array.Fill(_slotOf, -1);
        for (int i = 0; i < b.SlotUsers.Count; i++) b.SlotUsers[i] = 0;
        var clock = StepClock;
        if (clock is not null && ForwardMs.Length != steps.Length) ForwardMs = new double[steps.Length];
        for (int s = 0; s < steps.Length; s++)
        {
            var step = steps[s];
            Gather(step);
            int need = checked(n * _sampleSize[step.Output]);
            int slot = b.StepSlot[s];
            if (slot < 0 || b.SlotUsers[slot] != 0 || b.Slots[slot].Length < need) slot = FreeSlot(b, need);
            b.StepSlot[s] = slot;
            var view = b.Views[s];
            if (view is null || view.Array != b.Slots[slot] || view.Shape[0] != n)
                b.Views[s] = view = new Tensor(b.Slots[slot], 0, Layer.BatchShapeOf(n, _sampleShape[step.Output]));
            step.Layer.PlannedOutput = view;
            Tensor y;
            double t0 = clock?.Invoke() ?? 0;
            try { y = step.Forward(training, record: false); }
            finally { step.Layer.PlannedOutput = null; }
            if (clock is not null) ForwardMs[s] = clock() - t0;
            _values[step.Output] = y;
            int held = SlotHolding(b, y);
            _slotOf[step.Output] = held;
            if (held >= 0) b.SlotUsers[held]++;
            foreach (int v in step.Inputs)
                if (--_remaining[v] == 0 && _slotOf[v] >= 0) b.SlotUsers[_slotOf[v]]--;
        }
        // Slots that grew during this call: refresh the views now, so the next call with this batch size allocates nothing.
        for (int s = 0; s < steps.Length; s++)
            if (b.Views[s] is { } v && b.StepSlot[s] >= 0 && v.Array != b.Slots[b.StepSlot[s]])
                b.Views[s] = new Tensor(b.Slots[b.StepSlot[s]], 0, Layer.BatchShapeOf(n, _sampleShape[steps[s].Output]));
    }

    // The smallest free slot with room for `need` floats; a new one if none (only on the first call for a batch size).
    private static int FreeSlot(BatchState b, int need)
    {
        int best = -1;
        for (int i = 0; i < b.Slots.Count; i++)
            if (b.SlotUsers[i] == 0 && b.Slots[i].Length >= need && (best < 0 || b.Slots[i].Length < b.Slots[best].Length)) best = i;
        if (best >= 0) return best;
        // Grow the largest free slot rather than adding one, so the number of slots stays at the graph's peak width.
        for (int i = 0; i < b.Slots.Count; i++)
            if (b.SlotUsers[i] == 0 && (best < 0 || b.Slots[i].Length > b.Slots[best].Length)) best = i;
        if (best >= 0) { b.Slots[best] = new float[need]; return best; }
        b.Slots.Add(new float[need]);
        b.SlotUsers.Add(0);
        return b.Slots.Count - 1;
    }

    private static int SlotHolding(BatchState b, Tensor y)
    {
        for (int i = 0; i < b.Slots.Count; i++) if (ReferenceEquals(b.Slots[i], y.Array)) return i;
        return -1;
    }

    /// <summary>
    /// Marks which values need a gradient: those downstream of a trainable parameter, and the input when
    /// <paramref name="inputNeedsGradient"/>. Sets each layer's <see cref="Layer.NeedsInputGradient"/>. Call before
    /// <see cref="Backward"/> (cheap, no allocation), so that freezing and unfreezing layers takes effect.
    /// </summary>
    internal void PrepareBackward(bool inputNeedsGradient)
    {
        Array.Clear(_needsGrad);
        _needsGrad[0] = inputNeedsGradient;
        foreach (var step in _steps)
        {
            bool any = false;
            foreach (int v in step.Inputs) any |= _needsGrad[v];
            step.FirstLayer.NeedsInputGradient = any;
            _needsGrad[step.Output] = any || step.HasTrainableParameters;
        }
    }

    /// <summary>True if the last <see cref="PrepareBackward"/> found anything to differentiate.</summary>
    internal bool AnyGradient => _needsGrad[OutputValue];

    /// <summary>
    /// Backward pass after a recorded forward: <paramref name="dy"/> is dL/d(output). Parameter gradients are added into
    /// the parameters' <see cref="Parameter.Grad"/>; where a value feeds several steps their gradients are summed.
    /// Returns dL/d(input) if the input needs a gradient, else null.
    /// </summary>
    internal Tensor? Backward(Tensor dy)
    {
        Array.Clear(_grads);
        Array.Clear(_contributions);
        _grads[OutputValue] = dy;
        var b = Batch(dy.Shape[0]);
        var clock = StepClock;
        if (clock is not null)
        {
            if (BackwardMs.Length != _steps.Length) BackwardMs = new double[_steps.Length];
            Array.Clear(BackwardMs);
        }
        for (int s = _steps.Length - 1; s >= 0; s--)
        {
            var step = _steps[s];
            if (!_needsGrad[step.Output]) continue;
            var g = _grads[step.Output] ?? throw new InvalidOperationException($"Step '{step.Name}': no gradient reached its output.");
            double t0 = clock?.Invoke() ?? 0;
            step.Backward(g);
            if (clock is not null) BackwardMs[s] = clock() - t0;
            for (int i = 0; i < step.Inputs.Length; i++)
            {
                int v = step.Inputs[i];
                if (_needsGrad[v]) Accumulate(b, v, step.InputGradients[i]!);
                step.InputGradients[i] = null;
            }
        }
        var dx = _needsGrad[0] ? _grads[0] : null;
        Array.Clear(_grads);
        return dx;
    }

    // dL/dv = Σ over v's consumers. One consumer: its gradient tensor is used as is; several: summed into a plan buffer.
    private void Accumulate(BatchState b, int v, Tensor g)
    {
        if (_consumers[v] == 1) { _grads[v] = g; return; }
        var acc = b.Accumulators[v];
        if (acc is null || acc.Shape != g.Shape) b.Accumulators[v] = acc = new Tensor(g.Shape);
        if (_contributions[v]++ == 0) g.Span.CopyTo(acc.Span);
        else TensorPrimitives.Add(acc.Span, g.Span, acc.Span);
        _grads[v] = acc;
    }
}
