using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ConvNet.Tuning;

/// <summary>What <see cref="TuningProgress"/> reports.</summary>
public enum TuningProgressKind
{
    /// <summary>A trial is about to be built and trained.</summary>
    TrialBegin,
    /// <summary>Progress of the trial's <c>Fit</c> (see <see cref="TuningProgress.Training"/>).</summary>
    Training,
    /// <summary>A trial completed or failed.</summary>
    TrialEnd,
}

/// <summary>Progress of a search: the trial (its number counts from 1), and for <see cref="TuningProgressKind.Training"/> the <c>Fit</c> progress.</summary>
public sealed record TuningProgress(TuningProgressKind Kind, Trial Trial, int TrialNumber, int? MaxTrials, int Execution, TrainingProgress? Training = null);

/// <summary>
/// The shared search loop of Keras Tuner's tuners. A subclass decides the next trial's values from the trials so far (an oracle);
/// this class registers the space (one call of <c>buildModel</c> with the defaults), builds and trains each trial's model
/// <c>executionsPerTrial</c> times, scores it, and records it on disk.
/// <para>
/// Files: <c>directory/projectName/tuner.json</c> (the tuner's kind, objective and seed) and <c>trial_ID/trial.json</c>
/// (hyper-parameters, status, score, best epoch, epochs, time, failure message), each written atomically, plus
/// <c>trial_ID/checkpoint.cnet</c> (the first execution's weights at its best epoch). With <c>overwrite: false</c> a new tuner
/// on the same folder reloads the trials: completed and failed ones are kept, and a trial left running by an interrupted search
/// is run again with the same values.
/// </para>
/// <para>
/// Training is reproducible: execution e of every trial uses weight seed and shuffle seed <c>seed + e</c>, so trials differ only
/// in their hyper-parameters, and the same seed gives the same trials and scores.
/// </para>
/// </summary>
public abstract class Tuner
{
    private readonly Func<HyperParameters, Model> _buildModel;
    private readonly List<Trial> _trials = [];
    private HyperParameters? _space;
    private bool _loaded;

    private protected Tuner(Func<HyperParameters, Model> buildModel, Objective objective, int? maxTrials, int executionsPerTrial, int seed,
        string directory, string projectName, bool overwrite)
    {
        ArgumentNullException.ThrowIfNull(buildModel);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(projectName);
        if (maxTrials is <= 0) throw new ArgumentOutOfRangeException(nameof(maxTrials), $"maxTrials must be positive, got {maxTrials}.");
        if (executionsPerTrial <= 0) throw new ArgumentOutOfRangeException(nameof(executionsPerTrial), $"executionsPerTrial must be positive, got {executionsPerTrial}.");
        _buildModel = buildModel;
        Objective = objective;
        MaxTrials = maxTrials;
        ExecutionsPerTrial = executionsPerTrial;
        Seed = seed;
        ProjectDirectory = Path.Combine(directory, projectName);
        Overwrite = overwrite;
    }

    /// <summary>What is optimised.</summary>
    public Objective Objective { get; }

    /// <summary>The most trials to create (failed ones count); null: until the tuner's own schedule ends.</summary>
    public int? MaxTrials { get; }

    /// <summary>Models trained per trial (the score is the mean of their best epoch values).</summary>
    public int ExecutionsPerTrial { get; }

    /// <summary>Seed of the sampling and of every trial's training.</summary>
    public int Seed { get; }

    /// <summary><c>directory/projectName</c>: where the trials are recorded.</summary>
    public string ProjectDirectory { get; }

    /// <summary>True: start afresh (the project folder is deleted); false: resume from the trials on disk.</summary>
    public bool Overwrite { get; }

    /// <summary>The search space, registered by one call of <c>buildModel</c> with default values.</summary>
    public HyperParameters SearchSpace => _space ??= RegisterSpace();

    /// <summary>The trials so far, in creation order.</summary>
    public IReadOnlyList<Trial> Trials { get { EnsureLoaded(); return _trials; } }

    private protected abstract string Kind { get; }

    /// <summary>Values for the next trial (a copy of <paramref name="space"/> with tuner values set), or null when the search is over.</summary>
    private protected abstract HyperParameters? NextValues(HyperParameters space, IReadOnlyList<Trial> trials);

    /// <summary>Epochs to train the trial and the epoch to start from (Hyperband continues a parent trial).</summary>
    private protected virtual (int Epochs, int InitialEpoch, string? ParentId) TrialEpochs(Trial trial, int searchEpochs) => (searchEpochs, 0, null);

    /// <summary>
    /// Runs trials until <see cref="MaxTrials"/> or the tuner's schedule is exhausted, like Keras Tuner's <c>search</c>.
    /// A trial whose build or training throws is recorded as failed with the message, and the search goes on.
    /// Cancelling leaves the current trial marked running on disk; a new tuner with <c>overwrite: false</c> runs it again.
    /// </summary>
    /// <param name="train">Training data.</param>
    /// <param name="validationData">Validation data (needed for <c>val_</c> objectives).</param>
    /// <param name="epochs">Epochs per trial (Hyperband sets its own).</param>
    /// <param name="callbacks">Callbacks for every Fit (e.g. <see cref="EarlyStopping"/>); they are reset at each Fit's start.</param>
    /// <param name="batchSize">Mini-batch size.</param>
    /// <param name="progress">Trial and training progress.</param>
    /// <param name="cancellationToken">Stops the search.</param>
    public void Search(Dataset train, Dataset? validationData = null, int epochs = 1, IEnumerable<Callback>? callbacks = null, int batchSize = 32,
        IProgress<TuningProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), $"epochs must be positive, got {epochs}.");
        var cbs = callbacks?.ToArray() ?? [];
        var space = SearchSpace;
        EnsureLoaded();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var trial = _trials.FirstOrDefault(t => t.Status == TrialStatus.Running);
            if (trial is null)
            {
                if (MaxTrials is int m && _trials.Count >= m) break;
                var values = NextValues(space, _trials);
                if (values is null) break;
                trial = new Trial(TrialId(_trials.Count), values);
                _trials.Add(trial);
                SaveTrial(trial);
            }
            RunTrial(trial, _trials.IndexOf(trial) + 1, train, validationData, epochs, cbs, batchSize, progress, cancellationToken);
        }
    }

    private void RunTrial(Trial trial, int number, Dataset train, Dataset? val, int searchEpochs, Callback[] callbacks, int batchSize,
        IProgress<TuningProgress>? progress, CancellationToken ct)
    {
        progress?.Report(new TuningProgress(TuningProgressKind.TrialBegin, trial, number, MaxTrials, 0));
        var clock = Stopwatch.StartNew();
        var (epochs, initial, parentId) = TrialEpochs(trial, searchEpochs);
        try
        {
            double sum = 0;
            for (int e = 0; e < ExecutionsPerTrial; e++)
            {
                var hp = trial.HyperParameters.Copy();
                var model = BuildModel(hp);
                trial.HyperParameters.MergeSpace(hp);   // entries seen for the first time join the trial's record and the space
                SearchSpace.MergeSpace(hp);
                model.Seed = Seed + e;
                if (parentId is not null) model.LoadWeights(CheckpointPath(parentId));
                var tracker = new BestEpoch(Objective, keepWeights: e == 0);
                int exec = e;
                var fitProgress = progress is null ? null
                    : new Relay(p => progress.Report(new TuningProgress(TuningProgressKind.Training, trial, number, MaxTrials, exec, p)));
                model.Fit(train, Math.Max(1, epochs - initial), batchSize, val, [.. callbacks, tracker], seed: Seed + e + initial,
                    progress: fitProgress, cancellationToken: ct);
                if (tracker.Missing is not null) throw new InvalidOperationException(tracker.Missing);
                if (tracker.Weights is null && e == 0) throw new InvalidOperationException("Training ended before its first epoch completed (e.g. TerminateOnNaN).");
                sum += tracker.Best;
                if (e == 0)
                {
                    trial.BestEpoch = initial + tracker.Epoch + 1;
                    trial.Epochs = epochs;
                    model.SetWeights(tracker.Weights!);
                    model.Save(CheckpointPath(trial.TrialId));
                }
            }
            trial.Score = sum / ExecutionsPerTrial;
            trial.Status = TrialStatus.Completed;
        }
        catch (OperationCanceledException) { throw; }
        catch (Exception ex)
        {
            trial.Status = TrialStatus.Failed;
            trial.Score = null;
            trial.Message = $"{ex.GetType().Name}: {ex.Message}";
        }
        trial.Duration = clock.Elapsed;
        SaveTrial(trial);
        progress?.Report(new TuningProgress(TuningProgressKind.TrialEnd, trial, number, MaxTrials, ExecutionsPerTrial - 1));
    }

    private Model BuildModel(HyperParameters hp) =>
        _buildModel(hp) ?? throw new InvalidOperationException("buildModel returned null; it must return a compiled model.");

    /// <summary>The completed trials, best first (ties keep creation order).</summary>
    public IReadOnlyList<Trial> GetBestTrials(int numTrials = 1)
    {
        if (numTrials <= 0) throw new ArgumentOutOfRangeException(nameof(numTrials), $"numTrials must be positive, got {numTrials}.");
        var done = Trials.Where(t => t.Status == TrialStatus.Completed && t.Score is double s && !double.IsNaN(s));
        var sorted = Objective.Direction == ObjectiveDirection.Max
            ? done.OrderByDescending(t => t.Score!.Value)
            : done.OrderBy(t => t.Score!.Value);
        return sorted.Take(numTrials).ToArray();
    }

    /// <summary>The hyper-parameters of the best <paramref name="numTrials"/> completed trials, best first.</summary>
    public IReadOnlyList<HyperParameters> GetBestHyperparameters(int numTrials = 1) =>
        GetBestTrials(numTrials).Select(t => t.HyperParameters.Copy()).ToArray();

    /// <summary>
    /// The best <paramref name="numModels"/> models, best first: each is built by <c>buildModel</c> with its trial's values
    /// (so it is compiled) and given the weights of the first execution's best epoch.
    /// </summary>
    public IReadOnlyList<Model> GetBestModels(int numModels = 1) =>
        GetBestTrials(numModels).Select(t =>
        {
            var model = BuildModel(t.HyperParameters.Copy());
            model.LoadWeights(CheckpointPath(t.TrialId));
            return model;
        }).ToArray();

    /// <summary>Keras Tuner's <c>results_summary</c>: the best trials with their hyper-parameters and scores (the library never prints; write it out).</summary>
    public string ResultsSummary(int numTrials = 10)
    {
        var sb = new StringBuilder();
        sb.Append("Results summary\n");
        sb.Append("Results in ").Append(ProjectDirectory).Append('\n');
        sb.Append("Showing ").Append(numTrials).Append(" best trials\n");
        sb.Append(Objective).Append('\n');
        foreach (var t in GetBestTrials(numTrials))
        {
            sb.Append('\n').Append("Trial ").Append(t.TrialId).Append(" summary\n");
            sb.Append("Hyperparameters:\n");
            foreach (var (k, v) in t.HyperParameters.Values) sb.Append(k).Append(": ").Append(HyperParameters.FormatValue(v)).Append('\n');
            sb.Append("Score: ").Append(t.Score!.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        int failed = Trials.Count(t => t.Status == TrialStatus.Failed);
        if (failed > 0) sb.Append('\n').Append(failed).Append(failed == 1 ? " trial" : " trials").Append(" failed.\n");
        return sb.ToString();
    }

    private string TrialId(int index) => index.ToString(CultureInfo.InvariantCulture)
        .PadLeft(MaxTrials is int m ? Math.Max(2, (m - 1).ToString(CultureInfo.InvariantCulture).Length) : 4, '0');

    private string TrialDirectory(string id) => Path.Combine(ProjectDirectory, "trial_" + id);

    /// <summary>The checkpoint of a trial: its first execution's weights at the best epoch.</summary>
    public string CheckpointPath(string trialId) => Path.Combine(TrialDirectory(trialId), "checkpoint.cnet");

    private void SaveTrial(Trial t) => AtomicFile.WriteAllText(Path.Combine(TrialDirectory(t.TrialId), "trial.json"), t.ToJson());

    private HyperParameters RegisterSpace()
    {
        var hp = new HyperParameters();
        _buildModel(hp);
        return hp;
    }

    private void EnsureLoaded()
    {
        if (_loaded) return;
        var space = SearchSpace;
        var tunerFile = Path.Combine(ProjectDirectory, "tuner.json");
        if (Overwrite && Directory.Exists(ProjectDirectory)) Directory.Delete(ProjectDirectory, recursive: true);
        var identity = new JsonObject { ["tuner"] = Kind, ["objective"] = Objective.Name, ["direction"] = Objective.Direction.ToString().ToLowerInvariant(), ["seed"] = Seed }
            .ToJsonString();
        if (File.Exists(tunerFile))
        {
            var stored = File.ReadAllText(tunerFile);
            if (stored != identity)
                throw new InvalidOperationException($"{ProjectDirectory} holds a different search ({stored}); this one is {identity}. Use another project name or overwrite: true.");
            foreach (var dir in Directory.GetDirectories(ProjectDirectory, "trial_*").Order(StringComparer.Ordinal))
            {
                var file = Path.Combine(dir, "trial.json");
                if (!File.Exists(file)) continue;
                var trial = Trial.FromJson(File.ReadAllText(file), space, file);
                if (trial.HyperParameters.Values.Keys.Any(k => !space.Contains(k) && !k.StartsWith("tuner/", StringComparison.Ordinal)))
                {
                    // Entries that an earlier build discovered: build once more with the recorded values to learn their definitions.
                    var probe = trial.HyperParameters.Copy();
                    try { _buildModel(probe); } catch (Exception e) when (e is not OperationCanceledException) { }
                    trial.HyperParameters.MergeSpace(probe);
                    space.MergeSpace(probe);
                }
                _trials.Add(trial);
            }
        }
        else AtomicFile.WriteAllText(tunerFile, identity);
        _loaded = true;
    }

    private sealed class Relay(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>Tracks the objective's best epoch (and optionally its weights) during one Fit.</summary>
    private sealed class BestEpoch(Objective objective, bool keepWeights) : Callback
    {
        public double Best { get; private set; } = double.NaN;
        public int Epoch { get; private set; }
        public float[][]? Weights { get; private set; }
        public string? Missing { get; private set; }

        public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
        {
            if (!logs.TryGetValue(objective.Name, out double v))
            {
                Missing = $"The objective '{objective.Name}' is not in the training logs; they have: {string.Join(", ", logs.Keys)}" +
                          (objective.Name.StartsWith("val_", StringComparison.Ordinal) ? " (pass validationData to Search)." : ".");
                context.StopTraining = true;
                return;
            }
            if (double.IsNaN(Best) || objective.IsBetter(v, Best))
            {
                Best = v;
                Epoch = epoch;
                if (keepWeights) Weights = context.GetWeights();
            }
        }
    }
}

/// <summary>Keras Tuner's <c>RandomSearch</c>: each trial draws every entry of the space at random (seeded; a configuration already tried is drawn again, up to 20 times).</summary>
public sealed class RandomSearch : Tuner
{
    /// <summary>Creates the tuner; see <see cref="Tuner"/> for the files it writes.</summary>
    public RandomSearch(Func<HyperParameters, Model> buildModel, Objective objective, int maxTrials = 10, int executionsPerTrial = 1, int seed = 0,
        string directory = ".", string projectName = "untitled_project", bool overwrite = false)
        : base(buildModel, objective, maxTrials, executionsPerTrial, seed, directory, projectName, overwrite) { }

    private protected override string Kind => "random";

    private protected override HyperParameters? NextValues(HyperParameters space, IReadOnlyList<Trial> trials) =>
        Sampler.Random(space, trials, Seed, trials.Count);
}

/// <summary>Draws fresh random values for trial number <c>index</c>, seeded by (seed, index), avoiding configurations already tried.</summary>
internal static class Sampler
{
    public const int MaxCollisions = 20;

    public static HyperParameters? Random(HyperParameters space, IReadOnlyList<Trial> trials, int seed, int index)
    {
        var tried = trials.Select(t => t.HyperParameters.Key()).ToHashSet(StringComparer.Ordinal);
        var rng = new Rng(seed * 1_000_003L + index);
        for (int attempt = 0; attempt < MaxCollisions; attempt++)
        {
            var hp = space.Copy();
            hp.SampleAll(rng);
            if (!tried.Contains(hp.Key())) return hp;
        }
        return null;
    }
}

/// <summary>
/// Keras Tuner's <c>GridSearch</c>: every combination of the entries' grid values, the last-registered entry changing fastest
/// (Choice: its values; Int: its grid; Boolean: false, true; Float: its step grid, or 10 evenly spaced points without a step).
/// Combinations that differ only in inactive conditional entries run once.
/// </summary>
public sealed class GridSearch : Tuner
{
    /// <summary>Creates the tuner; <paramref name="maxTrials"/> null runs the whole grid.</summary>
    public GridSearch(Func<HyperParameters, Model> buildModel, Objective objective, int? maxTrials = null, int executionsPerTrial = 1, int seed = 0,
        string directory = ".", string projectName = "untitled_project", bool overwrite = false)
        : base(buildModel, objective, maxTrials, executionsPerTrial, seed, directory, projectName, overwrite) { }

    private protected override string Kind => "grid";

    private protected override HyperParameters? NextValues(HyperParameters space, IReadOnlyList<Trial> trials)
    {
        var tried = trials.Select(t => t.HyperParameters.Key()).ToHashSet(StringComparer.Ordinal);
        var grids = space.Space.Select(p => p.GridValues()).ToArray();
        var digits = new int[grids.Length];
        while (true)
        {
            var hp = space.Copy();
            for (int i = 0; i < grids.Length; i++) hp.Set(space.Space[i].Name, grids[i][digits[i]]);
            if (!tried.Contains(hp.Key())) return hp;
            int d = grids.Length - 1;
            while (d >= 0 && ++digits[d] == grids[d].Count) { digits[d] = 0; d--; }
            if (d < 0) return null;
        }
    }
}

/// <summary>One successive-halving round of a Hyperband bracket: how many trials, trained to how many epochs (cumulative).</summary>
public readonly record struct HyperbandRound(int Trials, int Epochs);

/// <summary>A Hyperband bracket: its number s (s = sMax halves most aggressively) and its rounds.</summary>
public sealed record HyperbandBracket(int Number, IReadOnlyList<HyperbandRound> Rounds);

/// <summary>
/// Hyperband (Li et al., JMLR 2018) with Keras Tuner's bracket schedule. For maximum epochs R and factor η there are
/// s_max + 1 brackets (s_max = ⌊log_η R⌋), run from the most aggressive (s = s_max) down to s = 0, <c>hyperbandIterations</c> times.
/// Bracket s starts n = ⌈⌈1 + log_η R⌉ / (s + 1) · η^s⌉ random trials of ⌈R / η^s⌉ epochs (the paper's n and r); in round i
/// the best ⌈⌈1 + log_η R⌉ / (s + 1) · η^(s − i)⌉ completed trials of round i − 1 continue from their best checkpoint to
/// ⌈R / η^(s − i)⌉ epochs. (The paper keeps ⌊n_i / η⌋ per round; Keras Tuner's ceiling keeps a few more: see <see cref="Schedule(int, int)"/>.)
/// </summary>
public sealed class Hyperband : Tuner
{
    /// <summary>Creates the tuner. <paramref name="maxTrials"/> optionally caps the number of trials.</summary>
    public Hyperband(Func<HyperParameters, Model> buildModel, Objective objective, int maxEpochs, int factor = 3, int hyperbandIterations = 1,
        int? maxTrials = null, int executionsPerTrial = 1, int seed = 0, string directory = ".", string projectName = "untitled_project", bool overwrite = false)
        : base(buildModel, objective, maxTrials, executionsPerTrial, seed, directory, projectName, overwrite)
    {
        if (maxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(maxEpochs), $"maxEpochs must be at least 1, got {maxEpochs}.");
        if (factor < 2) throw new ArgumentOutOfRangeException(nameof(factor), $"factor must be at least 2, got {factor}.");
        if (hyperbandIterations < 1) throw new ArgumentOutOfRangeException(nameof(hyperbandIterations), $"hyperbandIterations must be at least 1, got {hyperbandIterations}.");
        MaxEpochs = maxEpochs;
        Factor = factor;
        HyperbandIterations = hyperbandIterations;
    }

    /// <summary>R: the most epochs one model is trained.</summary>
    public int MaxEpochs { get; }

    /// <summary>η: the reduction factor.</summary>
    public int Factor { get; }

    /// <summary>How many times the whole set of brackets is run.</summary>
    public int HyperbandIterations { get; }

    private protected override string Kind => $"hyperband(R={MaxEpochs},factor={Factor},iterations={HyperbandIterations})";

    /// <summary>The brackets for R = <paramref name="maxEpochs"/> and η = <paramref name="factor"/>, most aggressive first, in the order they run.</summary>
    public static IReadOnlyList<HyperbandBracket> Schedule(int maxEpochs, int factor)
    {
        var s = new Brackets(maxEpochs, factor);
        return Enumerable.Range(0, s.Count).Reverse()
            .Select(b => new HyperbandBracket(b, Enumerable.Range(0, b + 1).Select(r => new HyperbandRound(s.Size(b, r), s.Epochs(b, r))).ToArray()))
            .ToArray();
    }

    private protected override (int Epochs, int InitialEpoch, string? ParentId) TrialEpochs(Trial trial, int searchEpochs)
    {
        var v = trial.HyperParameters;
        return (v.Get<int>("tuner/epochs"), v.Get<int>("tuner/initial_epoch"), v.Contains("tuner/trial_id") ? v.Get<string>("tuner/trial_id") : null);
    }

    private protected override HyperParameters? NextValues(HyperParameters space, IReadOnlyList<Trial> trials)
    {
        // The oracle's state is a function of the trials so far (each was created after the previous ones finished):
        // replay the decisions for the existing trials, then make the next one.
        var oracle = new Oracle(new Brackets(MaxEpochs, Factor), HyperbandIterations, Objective);
        for (int k = 0; k < trials.Count; k++) oracle.Next(k, trials.Take(k).ToArray(), replay: trials[k]);
        return oracle.Next(trials.Count, trials, replay: null, space, Seed);
    }

    /// <summary>Keras Tuner's size and epoch formulas.</summary>
    internal sealed class Brackets
    {
        private readonly int _r, _eta;
        private readonly int _bracket0EndSize;

        public Brackets(int maxEpochs, int factor)
        {
            _r = maxEpochs; _eta = factor;
            double e = maxEpochs; int n = 0;
            while (e >= 1) { e /= factor; n++; }
            Count = n;
            _bracket0EndSize = (int)Math.Ceiling(1 + LogEta(maxEpochs));
        }

        /// <summary>Number of brackets, s_max + 1.</summary>
        public int Count { get; }

        // log_η(R), snapped to an integer when it is one up to rounding (Math.Log(243) / Math.Log(3) is 4.999…).
        private double LogEta(double x)
        {
            double l = Math.Log(x) / Math.Log(_eta);
            return Math.Abs(l - Math.Round(l)) < 1e-9 ? Math.Round(l) : l;
        }

        public int Size(int bracket, int round) =>
            (int)Math.Ceiling(Snap((double)_bracket0EndSize / (bracket + 1) * Math.Pow(_eta, bracket - round)));

        public int Epochs(int bracket, int round) => (int)Math.Ceiling(Snap(_r / Math.Pow(_eta, bracket - round)));

        private static double Snap(double v) => Math.Abs(v - Math.Round(v)) < 1e-9 ? Math.Round(v) : v;
    }

    /// <summary>Keras Tuner's <c>HyperbandOracle.populate_space</c>, run sequentially.</summary>
    private sealed class Oracle(Brackets brackets, int iterations, Objective objective)
    {
        private sealed record Entry(int? PastIndex, int Index);
        private sealed record Bracket(int Number, List<Entry>[] Rounds);

        private readonly List<Bracket> _brackets = [NewBracket(brackets.Count - 1)];
        private int _current = brackets.Count - 1, _iteration;

        private static Bracket NewBracket(int number) => new(number, Enumerable.Range(0, number + 1).Select(_ => new List<Entry>()).ToArray());

        public HyperParameters? Next(int index, IReadOnlyList<Trial> trials, Trial? replay, HyperParameters? space = null, int seed = 0)
        {
            _brackets.RemoveAll(b => b.Rounds[^1].Count == brackets.Size(b.Number, b.Rounds.Length - 1));
            foreach (var b in _brackets)
            {
                if (b.Rounds[0].Count < brackets.Size(b.Number, 0)) return RandomTrial(index, trials, b, replay, space, seed);
                for (int r = 1; r < b.Rounds.Length; r++)
                {
                    var round = b.Rounds[r];
                    int size = brackets.Size(b.Number, r), pastSize = brackets.Size(b.Number, r - 1);
                    var selected = round.Select(e => e.PastIndex).ToHashSet();
                    var candidates = b.Rounds[r - 1].Where(e => !selected.Contains(e.Index)).Select(e => e.Index)
                        .Where(i => trials[i].Status == TrialStatus.Completed).ToList();
                    if (candidates.Count > pastSize - size)
                    {
                        // The best candidate; ties keep the earlier trial (Python's sort is stable).
                        int best = candidates[0];
                        foreach (int c in candidates) if (objective.IsBetter(trials[c].Score!.Value, trials[best].Score!.Value)) best = c;
                        round.Add(new Entry(best, index));
                        if (replay is not null) return null;
                        var hp = trials[best].HyperParameters.Copy();
                        hp.Set("tuner/epochs", brackets.Epochs(b.Number, r));
                        hp.Set("tuner/initial_epoch", brackets.Epochs(b.Number, r - 1));
                        hp.Set("tuner/bracket", _current);
                        hp.Set("tuner/round", r);
                        hp.Set("tuner/trial_id", trials[best].TrialId);
                        return hp;
                    }
                }
            }
            if (_current == 0 && _iteration + 1 >= iterations) return null;   // all brackets of all iterations are done
            _current--;
            if (_current < 0) { _current = brackets.Count - 1; _iteration++; }
            _brackets.Add(NewBracket(_current));
            return RandomTrial(index, trials, _brackets[^1], replay, space, seed);
        }

        private HyperParameters? RandomTrial(int index, IReadOnlyList<Trial> trials, Bracket b, Trial? replay, HyperParameters? space, int seed)
        {
            b.Rounds[0].Add(new Entry(null, index));
            if (replay is not null) return null;
            var hp = Sampler.Random(space!, trials, seed, index);
            if (hp is null) return null;
            hp.Set("tuner/epochs", brackets.Epochs(b.Number, 0));
            hp.Set("tuner/initial_epoch", 0);
            hp.Set("tuner/bracket", _current);
            hp.Set("tuner/round", 0);
            return hp;
        }
    }
}
