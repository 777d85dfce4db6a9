using System.Globalization;

namespace ConvNet;

/// <summary>
/// The compile configuration in a model file (optimizer type and hyper-parameters, loss, metrics), so that a loaded model
/// can be evaluated and trained again without compiling, as a Keras <c>.keras</c> file allows. Optimizer state (moments,
/// step count) is not stored: a loaded model's optimizer starts fresh. A learning-rate schedule is stored as the rate it
/// had when saved. Only the library's own types are written; a model compiled with a custom loss, metric or optimizer is
/// saved without this section.
/// </summary>
internal static class CompileConfig
{
    /// <summary>One object: its type name and its constructor arguments as text.</summary>
    internal sealed record Entry(string Type, SortedDictionary<string, string> Config);

    private static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string B(bool v) => v ? "true" : "false";

    private static SortedDictionary<string, string> C(params (string Key, string Value)[] kv)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in kv) d[k] = v;
        return d;
    }

    /// <summary>The entries for a compiled model, or null if any part is not one of the library's types.</summary>
    public static (Entry Optimizer, Entry Loss, Entry[] Metrics)? Describe(Optimizer optimizer, Loss loss, IReadOnlyList<Metric> metrics)
    {
        Entry? opt = optimizer switch
        {
            AdamW a => new("AdamW", C(("learning_rate", F(a.LearningRate)), ("weight_decay", F(a.WeightDecay)), ("beta_1", F(a.Beta1)), ("beta_2", F(a.Beta2)), ("epsilon", F(a.Epsilon)), ("amsgrad", B(a.Amsgrad)))),
            Adam a when a.GetType() == typeof(Adam) => new("Adam", C(("learning_rate", F(a.LearningRate)), ("beta_1", F(a.Beta1)), ("beta_2", F(a.Beta2)), ("epsilon", F(a.Epsilon)), ("amsgrad", B(a.Amsgrad)))),
            RMSprop r => new("RMSprop", C(("learning_rate", F(r.LearningRate)), ("rho", F(r.Rho)), ("momentum", F(r.Momentum)), ("epsilon", F(r.Epsilon)), ("centered", B(r.Centered)))),
            SGD s => new("SGD", C(("learning_rate", F(s.LearningRate)), ("momentum", F(s.Momentum)), ("nesterov", B(s.Nesterov)))),
            _ => null,
        };
        Entry? l = loss switch
        {
            SparseCategoricalCrossentropy s => new("SparseCategoricalCrossentropy", C(("from_logits", B(s.FromLogits)))),
            CategoricalCrossentropy s => new("CategoricalCrossentropy", C(("from_logits", B(s.FromLogits)))),
            BinaryCrossentropy s => new("BinaryCrossentropy", C(("from_logits", B(s.FromLogits)))),
            MeanSquaredError => new("MeanSquaredError", C()),
            MeanAbsoluteError => new("MeanAbsoluteError", C()),
            Huber h => new("Huber", C(("delta", F(h.Delta)))),
            Poisson => new("Poisson", C()),
            _ => null,
        };
        var ms = new List<Entry>();
        foreach (var m in metrics)
        {
            Entry? e = m switch
            {
                Accuracy => new("Accuracy", C()),
                SparseTopKCategoricalAccuracy k => new("SparseTopKCategoricalAccuracy", C(("k", k.K.ToString(CultureInfo.InvariantCulture)), ("name", k.Name))),
                BinaryAccuracy b => new("BinaryAccuracy", C(("threshold", F(b.Threshold)), ("name", b.Name))),
                Precision p => new("Precision", C(("threshold", F(p.Threshold)), ("name", p.Name))),
                Recall r => new("Recall", C(("threshold", F(r.Threshold)), ("name", r.Name))),
                MeanAbsoluteErrorMetric a => new("MeanAbsoluteErrorMetric", C(("name", a.Name))),
                MeanSquaredErrorMetric s => new("MeanSquaredErrorMetric", C(("name", s.Name))),
                _ => null,
            };
            if (e is null) return null;
            ms.Add(e);
        }
        return opt is null || l is null ? null : (opt, l, ms.ToArray());
    }

    /// <summary>Recreates the objects; throws <see cref="FormatException"/>/<see cref="KeyNotFoundException"/>/<see cref="ArgumentException"/> on bad entries.</summary>
    public static (Optimizer, Loss, Metric[]) Create(Entry optimizer, Entry loss, Entry[] metrics)
    {
        static float Fl(IDictionary<string, string> c, string k) => float.Parse(c[k], NumberStyles.Float, CultureInfo.InvariantCulture);
        static bool Bo(IDictionary<string, string> c, string k) => c[k] switch { "true" => true, "false" => false, var v => throw new FormatException($"'{v}' is not a boolean") };
        var o = optimizer.Config;
        Optimizer opt = optimizer.Type switch
        {
            "Adam" => new Adam(Fl(o, "learning_rate"), Fl(o, "beta_1"), Fl(o, "beta_2"), Fl(o, "epsilon"), Bo(o, "amsgrad")),
            "AdamW" => new AdamW(Fl(o, "learning_rate"), Fl(o, "weight_decay"), Fl(o, "beta_1"), Fl(o, "beta_2"), Fl(o, "epsilon"), Bo(o, "amsgrad")),
            "RMSprop" => new RMSprop(Fl(o, "learning_rate"), Fl(o, "rho"), Fl(o, "momentum"), Fl(o, "epsilon"), Bo(o, "centered")),
            "SGD" => new SGD(Fl(o, "learning_rate"), Fl(o, "momentum"), Bo(o, "nesterov")),
            var t => throw new ArgumentException($"unknown optimizer type '{t}'"),
        };
        var c = loss.Config;
        Loss l = loss.Type switch
        {
            "SparseCategoricalCrossentropy" => new SparseCategoricalCrossentropy(Bo(c, "from_logits")),
            "CategoricalCrossentropy" => new CategoricalCrossentropy(Bo(c, "from_logits")),
            "BinaryCrossentropy" => new BinaryCrossentropy(Bo(c, "from_logits")),
            "MeanSquaredError" => new MeanSquaredError(),
            "MeanAbsoluteError" => new MeanAbsoluteError(),
            "Huber" => new Huber(Fl(c, "delta")),
            "Poisson" => new Poisson(),
            var t => throw new ArgumentException($"unknown loss type '{t}'"),
        };
        var ms = metrics.Select(m => m.Type switch
        {
            "Accuracy" => (Metric)new Accuracy(),
            "SparseTopKCategoricalAccuracy" => new SparseTopKCategoricalAccuracy(int.Parse(m.Config["k"], NumberStyles.Integer, CultureInfo.InvariantCulture), m.Config["name"]),
            "BinaryAccuracy" => new BinaryAccuracy(Fl(m.Config, "threshold"), m.Config["name"]),
            "Precision" => new Precision(Fl(m.Config, "threshold"), m.Config["name"]),
            "Recall" => new Recall(Fl(m.Config, "threshold"), m.Config["name"]),
            "MeanAbsoluteErrorMetric" => new MeanAbsoluteErrorMetric(m.Config["name"]),
            "MeanSquaredErrorMetric" => new MeanSquaredErrorMetric(m.Config["name"]),
            var t => throw new ArgumentException($"unknown metric type '{t}'"),
        }).ToArray();
        return (opt, l, ms);
    }
}
