using System.Diagnostics;
using System.Numerics;

namespace ConvNet;

public partial class Model
{
    private int[] _labelBuffer = [];
    private float[] _targetBuffer = [];
    private readonly Dictionary<int, Tensor> _gradTensors = [];

    /// <summary>Trains on tensors, like Keras <c>fit(x, y, …)</c>. See <see cref="Fit(Dataset, int, int, Dataset?, IEnumerable{Callback}?, bool, int, IProgress{TrainingProgress}?, CancellationToken, int?)"/>.</summary>
    public History Fit(Tensor x, int[] y, int epochs = 1, int batchSize = 32, Dataset? validationData = null, IEnumerable<Callback>? callbacks = null,
        bool shuffle = true, int seed = 0, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, int? verbose = null)
        => Fit(new Dataset(x, y), epochs, batchSize, validationData, callbacks, shuffle, seed, progress, cancellationToken, verbose);

    /// <summary>Trains on tensors with float targets (N, outputs), like Keras <c>fit(x, y, …)</c> for regression or binary/one-hot losses.</summary>
    public History Fit(Tensor x, Tensor y, int epochs = 1, int batchSize = 32, Dataset? validationData = null, IEnumerable<Callback>? callbacks = null,
        bool shuffle = true, int seed = 0, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, int? verbose = null)
        => Fit(new Dataset(x, y), epochs, batchSize, validationData, callbacks, shuffle, seed, progress, cancellationToken, verbose);

    /// <summary>
    /// Trains for up to <paramref name="epochs"/> epochs in mini-batches (the sample order is a seeded shuffle per epoch),
    /// evaluates <paramref name="validationData"/> after each epoch, runs callbacks and reports progress.
    /// Same seed and same <see cref="Layer.Threads"/> → bit-identical weights and history.
    /// </summary>
    /// <exception cref="TrainingException">A label is out of range, an input is NaN/Inf, or the loss became NaN/Inf (the batch is not applied).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the weights are those after the last completed batch.</exception>
    /// <remarks><c>verbose</c>, like Keras: 0 silent; 1 a progress line per batch on the console; 2 one line per epoch. Null (default):
    /// 0 when a <c>progress</c> handler is given (the caller shows progress), else 1 on an interactive console and 2 when the
    /// output is redirected. Callback messages (early stopping, a monitor that is not available) are printed unless 0.
    /// A callback monitoring a name that Fit does not log fails before the first epoch, listing the available names.</remarks>
    public History Fit(Dataset train, int epochs = 1, int batchSize = 32, Dataset? validationData = null, IEnumerable<Callback>? callbacks = null,
        bool shuffle = true, int seed = 0, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, int? verbose = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (verbose is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(verbose), $"verbose must be 0, 1 or 2, got {verbose}.");
        using var exclusive = Exclusive();
        int level = verbose ?? (progress is not null ? 0 : Console.IsOutputRedirected ? 2 : 1);
        if (progress is null && level > 0) progress = new ConsoleTrainingProgress(Console.Out, level);
        if (_optimizer is null || _loss is null) throw new InvalidOperationException($"Model '{Name}' must be compiled (Compile(optimizer, loss, metrics)) before Fit.");
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), $"epochs must be positive, got {epochs}.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        EnsureBuilt(train.X);
        CheckBatch(train.X);
        if (validationData is not null) CheckBatch(validationData.X);
        TargetChecks.CheckDataset(_loss, _metrics, train, OutputShape[^1], "the training data", checkLabelRange: false);
        if (train.TargetKind == TargetKind.Labels && (train.ClassNames.Count == 1 || OutputShape[^1] == 1))
            throw new ArgumentException(train.ClassNames.Count == 1
                ? $"The training data has one class ('{train.ClassNames[0]}'): a classifier needs at least two; add a folder per class."
                : $"Model '{Name}' has a single output unit, so class labels cannot be learned; use Dense(classes) with at least two classes, or float targets with a binary loss.", nameof(train));
        if (validationData is not null) TargetChecks.CheckDataset(_loss, _metrics, validationData, OutputShape[^1], "the validation data");
        var cbs = callbacks?.ToArray() ?? [];
        var logNames = EvaluateNames.Concat(validationData is null ? [] : EvaluateNames.Select(k => "val_" + k)).ToArray();
        foreach (var cb in cbs)
            if (cb is IMonitoringCallback { Monitor: var monitor } && !logNames.Contains(monitor))
                throw new ArgumentException($"{cb.GetType().Name} monitors '{monitor}', which this Fit does not log; the available names are {string.Join(", ", logNames)}" +
                    (validationData is null && monitor.StartsWith("val_", StringComparison.Ordinal) ? " (val_ names need validationData)." : "."), nameof(callbacks));
        var terminateOnNaN = cbs.OfType<TerminateOnNaN>().FirstOrDefault();
        var history = new History();
        _progress = progress; _progressEpochs = epochs; _clock = Stopwatch.StartNew();
        StopTraining = false;
        foreach (var cb in cbs) cb.OnTrainBegin(this);
        int n = train.Count, batches = (n + batchSize - 1) / batchSize;
        var logKeys = logNames;
        for (int epoch = 0; epoch < epochs && !StopTraining; epoch++)
        {
            _progressEpoch = epoch + 1;
            var order = Dataset.EpochOrder(n, shuffle, seed, epoch);
            foreach (var m in _metrics) m.Reset();
            double lossSum = 0;
            int seen = 0;
            for (int b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int start = b * batchSize, cnt = Math.Min(batchSize, n - start);
                var bx = Gather(train, order.AsSpan(start, cnt), out var targets);
                try { lossSum += TrainStep(bx, targets, epoch, b); }
                catch (TrainingException e) when (e.LossNotFinite && terminateOnNaN is not null)
                {
                    terminateOnNaN.OnInvalidLoss(this, epoch, b, e.Message);   // the batch was not applied; end the epoch here
                    break;
                }
                seen += cnt;
                if (progress is not null)
                    progress.Report(new TrainingProgress(ProgressKind.BatchEnd, epoch + 1, epochs, b + 1, batches, RunningLogs(lossSum / seen), _clock.Elapsed));
            }
            var logs = RunningLogs(lossSum / seen);
            if (validationData is not null)
            {
                var v = Evaluate(validationData, batchSize);
                var names = EvaluateNames;
                for (int i = 0; i < v.Length; i++) logs["val_" + names[i]] = v[i];
            }
            history.Add(logs, logKeys);
            progress?.Report(new TrainingProgress(ProgressKind.EpochEnd, epoch + 1, epochs, batches, batches, logs, _clock.Elapsed));
            foreach (var cb in cbs) cb.OnEpochEnd(this, epoch, logs);
        }
        foreach (var cb in cbs) cb.OnTrainEnd(this);
        _progress = null;
        return history;
    }

    // Where a training error happened: "Epoch 3, batch 2", or "TrainOnBatch" (epoch −1).
    private static string Where(int epoch, int batch) => epoch < 0 ? "TrainOnBatch" : $"Epoch {epoch + 1}, batch {batch + 1}";

    private Dictionary<string, double> RunningLogs(double loss)
    {
        var logs = new Dictionary<string, double> { ["loss"] = loss };
        foreach (var m in _metrics) logs[m.Name] = m.Result;
        return logs;
    }

    // Copies the selected samples into a reusable (count, …) buffer and their targets (labels or floats) into a reusable array.
    private Tensor Gather(Dataset data, ReadOnlySpan<int> indices, out TargetBatch targets)
    {
        int cnt = indices.Length, per = data.X.Length / data.Count;
        var bx = BatchBuffer(cnt);
        var src = data.X.Span; var dst = bx.Span;
        for (int i = 0; i < cnt; i++) src.Slice(indices[i] * per, per).CopyTo(dst.Slice(i * per, per));
        if (data.TargetKind == TargetKind.Labels)
        {
            if (_labelBuffer.Length < cnt) _labelBuffer = new int[cnt];
            var y = data.Y;
            for (int i = 0; i < cnt; i++) _labelBuffer[i] = y[indices[i]];
            targets = TargetBatch.FromLabels(_labelBuffer.AsSpan(0, cnt));
            return bx;
        }
        int w = data.TargetWidth;
        if (_targetBuffer.Length < cnt * w) _targetBuffer = new float[cnt * w];
        var t = data.Targets!.Span;
        for (int i = 0; i < cnt; i++) t.Slice(indices[i] * w, w).CopyTo(_targetBuffer.AsSpan(i * w, w));
        targets = TargetBatch.FromValues(_targetBuffer.AsSpan(0, cnt * w), w);
        return bx;
    }

    /// <summary>
    /// One optimisation step on one batch, like Keras <c>train_on_batch</c>: forward, loss, backward, update.
    /// Returns the batch's mean loss. After the first call with a given batch size it allocates nothing.
    /// </summary>
    public double TrainOnBatch(Tensor x, int[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (y.Length != x.Shape[0]) throw new ArgumentException($"TrainOnBatch: {x.Shape[0]} samples in x {x.Shape} but {y.Length} labels.", nameof(y));
        return TrainOnBatchCore(x, TargetBatch.FromLabels(y));
    }

    /// <summary>One optimisation step on one batch with float targets (N, outputs); see <see cref="TrainOnBatch(Tensor, int[])"/>.</summary>
    public double TrainOnBatch(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int n = x.Shape[0];
        if (y.Shape.Rank == 0 || y.Shape[0] != n) throw new ArgumentException($"TrainOnBatch: {n} samples in x {x.Shape} but targets of shape {y.Shape}.", nameof(y));
        return TrainOnBatchCore(x, TargetBatch.FromValues(y.Span, n == 0 ? 1 : y.Length / n));
    }

    // The shared part of both TrainOnBatch overloads: checks, then one step; returns the batch's mean loss.
    private double TrainOnBatchCore(Tensor x, TargetBatch targets)
    {
        using var exclusive = Exclusive();
        if (_optimizer is null || _loss is null) throw new InvalidOperationException($"Model '{Name}' must be compiled before TrainOnBatch.");
        EnsureBuilt(x);
        CheckBatch(x);
        CheckBatchTargets(targets);
        foreach (var m in _metrics) m.Reset();
        return TrainStep(x, targets, -1, 0) / x.Shape[0];
    }

    // The whole batch's targets against the loss and metrics, before any work (no allocation when they are fine).
    private void CheckBatchTargets(TargetBatch targets)
    {
        int outputs = OutputShape[^1];
        TargetChecks.Check(_loss!, _loss!.TargetKind, targets.Rows, outputs, targets, "the batch", checkLabelRange: false);   // TrainStep checks label ranges
        foreach (var m in _metrics)
            if (m.TargetKind != _loss.TargetKind) TargetChecks.Check(m, m.TargetKind, targets.Rows, outputs, targets, "the batch", checkLabelRange: false);
    }

    private double TrainStep(Tensor bx, TargetBatch targets, int epoch, int batch)
    {
        int classes = OutputShape[^1];
        if (targets.Kind == TargetKind.Labels) CheckLabels(targets.Labels, classes, epoch, batch);
        if (!AllFinite(bx.Span))
            throw new TrainingException($"{Where(epoch, batch)}: the input batch contains NaN or infinite values; nothing was updated.");
        int rows = bx.Shape[0];
        var dp = DataParallelFor(rows);   // null: layer-parallel (one fork-join per layer)
        Tensor logits, grad = null!;
        double loss;
        if (dp is not null) { loss = dp.Run(bx, targets, _loss!, classes); logits = dp.Logits!; }
        else
        {
            logits = Run(bx, training: true, record: true);
            grad = GradTensor(logits.Shape);
            grad.Span.Clear();
            EnsureLength(ref _scratch, logits.Length);
            loss = _loss!.Compute(rows, classes, logits.Span, targets, grad.Span, _scratch);
        }
        if (!double.IsFinite(loss))
        {
            dp?.DiscardGradients();
            throw new TrainingException($"{Where(epoch, batch)}: the loss became {loss}; the batch was not applied (try a lower learning rate).") { LossNotFinite = true };
        }
        foreach (var m in _metrics) m.Update(rows, classes, logits.Span, targets);
        if (dp is not null) dp.ReduceGradients();
        else
        {
            var plan = Plan();
            plan.PrepareBackward(inputNeedsGradient: false);
            if (plan.AnyGradient) plan.Backward(grad);
        }
        _optimizer!.Threads = Threads;
        _optimizer.BeginStep();
        ApplyOptimizer(this, _optimizer);
        return loss;
    }

    // Updates the trainable parameters of every layer, nested models included; frozen gradients are discarded.
    private static void ApplyOptimizer(Model model, Optimizer optimizer)
    {
        foreach (var l in model._layers)
        {
            if (l is Model inner) { ApplyOptimizer(inner, optimizer); continue; }
            var ps = l.Parameters;
            for (int i = 0; i < ps.Count; i++)
                if (l.Trainable && ps[i].Trainable) optimizer.Apply(ps[i]);
                else ps[i].Grad.Span.Clear();   // frozen or non-trainable state: gradients are discarded
        }
    }

    private Tensor GradTensor(Shape shape)
    {
        if (!_gradTensors.TryGetValue(shape[0], out var t) || t.Shape != shape) _gradTensors[shape[0]] = t = new Tensor(shape);
        return t;
    }

    private static void CheckLabels(ReadOnlySpan<int> labels, int classes, int epoch, int batch)
    {
        foreach (int l in labels)
            if ((uint)l >= (uint)classes)
                throw new TrainingException($"{Where(epoch, batch)}: label {l} is out of range for a model with {classes} classes (labels must be 0..{classes - 1}); nothing was updated.");
    }

    /// <summary>True if every value is finite (no NaN, no ±∞).</summary>
    internal static bool AllFinite(ReadOnlySpan<float> x)
    {
        int V = Vector<float>.Count, i = 0;
        for (; i + V <= x.Length; i += V)
        {
            var v = new Vector<float>(x.Slice(i, V));
            if (!Vector.EqualsAll(v - v, Vector<float>.Zero)) return false;   // x − x is NaN exactly for NaN and ±∞
        }
        for (; i < x.Length; i++) if (!float.IsFinite(x[i])) return false;
        return true;
    }

    /// <summary>Loss and metrics on tensors, in Keras order (<see cref="EvaluateNames"/>).</summary>
    public double[] Evaluate(Tensor x, int[] y, int batchSize = 32) => Evaluate(new Dataset(x, y), batchSize);

    /// <summary>Loss and metrics on tensors with float targets (N, outputs), in Keras order (<see cref="EvaluateNames"/>).</summary>
    public double[] Evaluate(Tensor x, Tensor y, int batchSize = 32) => Evaluate(new Dataset(x, y), batchSize);

    /// <summary>Loss and metrics on a dataset, in Keras order: <c>[loss, accuracy, …]</c>.</summary>
    public double[] Evaluate(Dataset data, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_loss is null) throw new InvalidOperationException($"Model '{Name}' must be compiled before Evaluate.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        if (data.Count == 0) throw new ArgumentException("The evaluation set is empty.", nameof(data));
        using var exclusive = Exclusive();
        EnsureBuilt(data.X);
        CheckBatch(data.X);
        CheckFinite(data.X, "the evaluation data");
        TargetChecks.CheckDataset(_loss, _metrics, data, OutputShape[^1], "the evaluation data");
        var metrics = _metrics.Select(m => m.CloneEmpty()).ToArray();
        int n = data.Count, classes = OutputShape[^1];
        double lossSum = 0;
        for (int s = 0; s < n; s += batchSize)
        {
            int cnt = Math.Min(batchSize, n - s);
            var targets = data.TargetsOf(s, cnt);
            var logits = Run(data.X.Slice(s, cnt), training: false, record: false);
            EnsureLength(ref _scratch, logits.Length);
            lossSum += _loss.Compute(cnt, classes, logits.Span, targets, [], _scratch);
            foreach (var m in metrics) m.Update(cnt, classes, logits.Span, targets);
        }
        return [lossSum / n, .. metrics.Select(m => m.Result)];
    }
}

/// <summary>Training could not continue (bad label, non-finite input or loss); the message names the epoch and batch.</summary>
public sealed class TrainingException(string message) : Exception(message)
{
    /// <summary>True when the batch's loss was NaN or infinite (lets <see cref="TerminateOnNaN"/> end Fit normally).</summary>
    internal bool LossNotFinite { get; init; }
}
