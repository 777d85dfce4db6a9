using System.Diagnostics;
using System.Numerics;

namespace ConvNet;

public partial class Model
{
    private int[] _labelBuffer = [];
    private readonly Dictionary<int, Tensor> _gradTensors = [];

    /// <summary>Trains on tensors, like Keras <c>fit(x, y, …)</c>. See <see cref="Fit(Dataset, int, int, Dataset?, IEnumerable{Callback}?, bool, int, IProgress{TrainingProgress}?, CancellationToken)"/>.</summary>
    public History Fit(Tensor x, int[] y, int epochs = 1, int batchSize = 32, Dataset? validationData = null, IEnumerable<Callback>? callbacks = null,
        bool shuffle = true, int seed = 0, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        => Fit(new Dataset(x, y), epochs, batchSize, validationData, callbacks, shuffle, seed, progress, cancellationToken);

    /// <summary>
    /// Trains for up to <paramref name="epochs"/> epochs in mini-batches (the sample order is a seeded shuffle per epoch),
    /// evaluates <paramref name="validationData"/> after each epoch, runs callbacks and reports progress.
    /// Same seed and same <see cref="Layer.Threads"/> → bit-identical weights and history.
    /// </summary>
    /// <exception cref="TrainingException">A label is out of range, an input is NaN/Inf, or the loss became NaN/Inf (the batch is not applied).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the weights are those after the last completed batch.</exception>
    public History Fit(Dataset train, int epochs = 1, int batchSize = 32, Dataset? validationData = null, IEnumerable<Callback>? callbacks = null,
        bool shuffle = true, int seed = 0, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (_optimizer is null || _loss is null) throw new InvalidOperationException($"Model '{Name}' must be compiled (Compile(optimizer, loss, metrics)) before Fit.");
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), $"epochs must be positive, got {epochs}.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        EnsureBuilt(train.X);
        CheckBatch(train.X);
        if (validationData is not null) CheckBatch(validationData.X);
        var cbs = callbacks?.ToArray() ?? [];
        var history = new History();
        _progress = progress; _progressEpochs = epochs; _clock = Stopwatch.StartNew();
        StopTraining = false;
        foreach (var cb in cbs) cb.OnTrainBegin(this);
        int n = train.Count, batches = (n + batchSize - 1) / batchSize;
        var logKeys = EvaluateNames.Concat(validationData is null ? [] : EvaluateNames.Select(k => "val_" + k)).ToArray();
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
                var bx = Gather(train, order.AsSpan(start, cnt), out var labels);
                lossSum += TrainStep(bx, labels, epoch, b);
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

    private Dictionary<string, double> RunningLogs(double loss)
    {
        var logs = new Dictionary<string, double> { ["loss"] = loss };
        foreach (var m in _metrics) logs[m.Name] = m.Result;
        return logs;
    }

    // Copies the selected samples into a reusable (count, …) buffer and their labels into a reusable array.
    private Tensor Gather(Dataset data, ReadOnlySpan<int> indices, out ReadOnlySpan<int> labels)
    {
        int cnt = indices.Length, per = data.X.Length / data.Count;
        var bx = BatchBuffer(cnt);
        if (_labelBuffer.Length < cnt) _labelBuffer = new int[cnt];
        var src = data.X.Span; var dst = bx.Span;
        for (int i = 0; i < cnt; i++)
        {
            src.Slice(indices[i] * per, per).CopyTo(dst.Slice(i * per, per));
            _labelBuffer[i] = data.Y[indices[i]];
        }
        labels = _labelBuffer.AsSpan(0, cnt);
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
        if (_optimizer is null || _loss is null) throw new InvalidOperationException($"Model '{Name}' must be compiled before TrainOnBatch.");
        EnsureBuilt(x);
        CheckBatch(x);
        if (y.Length != x.Shape[0]) throw new ArgumentException($"TrainOnBatch: {x.Shape[0]} samples in x {x.Shape} but {y.Length} labels.", nameof(y));
        foreach (var m in _metrics) m.Reset();
        return TrainStep(x, y, 0, 0) / y.Length;
    }

    private double TrainStep(Tensor bx, ReadOnlySpan<int> labels, int epoch, int batch)
    {
        int classes = OutputShape[^1];
        CheckLabels(labels, classes, epoch, batch);
        if (!AllFinite(bx.Span))
            throw new TrainingException($"Epoch {epoch + 1}, batch {batch + 1}: the input batch contains NaN or infinite values; nothing was updated.");
        var logits = Run(bx, training: true, record: true);
        int rows = bx.Shape[0];
        var grad = GradTensor(logits.Shape);
        grad.Span.Clear();
        EnsureLength(ref _scratch, logits.Length);
        double loss = _loss!.Compute(rows, classes, logits.Span, labels, grad.Span, _scratch);
        if (!double.IsFinite(loss))
            throw new TrainingException($"Epoch {epoch + 1}, batch {batch + 1}: the loss became {loss}; the batch was not applied (try a lower learning rate).");
        foreach (var m in _metrics) m.Update(rows, classes, logits.Span, labels);
        var plan = Plan();
        plan.PrepareBackward(inputNeedsGradient: false);
        if (plan.AnyGradient) plan.Backward(grad);
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
                throw new TrainingException($"Epoch {epoch + 1}, batch {batch + 1}: label {l} is out of range for a model with {classes} classes (labels must be 0..{classes - 1}); nothing was updated.");
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

    /// <summary>Loss and metrics on a dataset, in Keras order: <c>[loss, accuracy, …]</c>.</summary>
    public double[] Evaluate(Dataset data, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_loss is null) throw new InvalidOperationException($"Model '{Name}' must be compiled before Evaluate.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be positive, got {batchSize}.");
        if (data.Count == 0) throw new ArgumentException("The evaluation set is empty.", nameof(data));
        EnsureBuilt(data.X);
        CheckBatch(data.X);
        var metrics = _metrics.Select(m => m.CloneEmpty()).ToArray();
        int n = data.Count, classes = OutputShape[^1];
        double lossSum = 0;
        for (int s = 0; s < n; s += batchSize)
        {
            int cnt = Math.Min(batchSize, n - s);
            var labels = data.Y.AsSpan(s, cnt);
            foreach (int l in labels)
                if ((uint)l >= (uint)classes) throw new ArgumentException($"Label {l} is out of range for a model with {classes} classes.", nameof(data));
            var logits = Run(data.X.Slice(s, cnt), training: false, record: false);
            EnsureLength(ref _scratch, logits.Length);
            lossSum += _loss.Compute(cnt, classes, logits.Span, labels, [], _scratch);
            foreach (var m in metrics) m.Update(cnt, classes, logits.Span, labels);
        }
        return [lossSum / n, .. metrics.Select(m => m.Result)];
    }
}

/// <summary>Training could not continue (bad label, non-finite input or loss); the message names the epoch and batch.</summary>
public sealed class TrainingException(string message) : Exception(message);
