using System.Globalization;

namespace ConvNet.Tuning;

/// <summary>How <see cref="HyperParameters.Int"/> and <see cref="HyperParameters.Float"/> draw values.</summary>
public enum Sampling
{
    /// <summary>Uniform between min and max (a step gives an arithmetic grid min, min + step, …).</summary>
    Linear,
    /// <summary>Log-uniform between min and max, both positive (a step is a factor: a geometric grid min, min·step, …).</summary>
    Log,
}

/// <summary>One entry of a search space: its name, default, and (for conditional entries) the parent values that make it active.</summary>
public abstract class HyperParameter
{
    private protected HyperParameter(string name, object defaultValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        DefaultValue = defaultValue;
    }

    /// <summary>The unique name.</summary>
    public string Name { get; }

    /// <summary>The value used when the space is registered and when the entry is inactive.</summary>
    public object DefaultValue { get; }

    /// <summary>Conditions from enclosing <see cref="HyperParameters.ConditionalScope"/>s: each parent name with the values that activate this entry.</summary>
    public IReadOnlyList<(string Parent, IReadOnlyList<object> Values)> Conditions { get; internal set; } = [];

    internal abstract object Sample(Rng rng);

    /// <summary>Every value a grid search visits, in order.</summary>
    internal abstract IReadOnlyList<object> GridValues();

    /// <summary>Turns a stored value (a JSON number, string or bool) back into this entry's type.</summary>
    internal abstract object Coerce(object value);

    internal abstract bool SameDefinition(HyperParameter other);

    private protected static string Format(object v) => HyperParameters.FormatValue(v);
}

/// <summary>
/// A search space and one point in it, like Keras Tuner's <c>HyperParameters</c>. Inside <c>buildModel(hp)</c>, each call
/// (<see cref="Choice{T}(string, IReadOnlyList{T})"/>, <see cref="Int"/>, <see cref="Float"/>, <see cref="Boolean"/>,
/// <see cref="Fixed{T}"/>) registers its entry the first time a name is seen and returns the entry's current value:
/// the default while the space is being registered, the sampled value during a trial. Names are unique: a second call with
/// the same name and definition returns the same value; with another definition it throws.
/// </summary>
public sealed class HyperParameters
{
    private readonly List<HyperParameter> _space = [];
    private readonly Dictionary<string, HyperParameter> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);
    private readonly List<(string Parent, IReadOnlyList<object> Values)> _conditions = [];

    /// <summary>The registered entries, in registration order.</summary>
    public IReadOnlyList<HyperParameter> Space => _space;

    /// <summary>
    /// The current values of the active entries in registration order, then any values set by a tuner
    /// (Hyperband's <c>tuner/epochs</c>, <c>tuner/initial_epoch</c>, <c>tuner/bracket</c>, <c>tuner/round</c>, <c>tuner/trial_id</c>).
    /// </summary>
    public IReadOnlyDictionary<string, object> Values
    {
        get
        {
            var d = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var p in _space) if (IsActive(p.Name)) d[p.Name] = _values[p.Name];
            foreach (var (k, v) in _values) if (!_byName.ContainsKey(k)) d[k] = v;
            return d;
        }
    }

    /// <summary>One of <paramref name="values"/> (default: the first).</summary>
    public T Choice<T>(string name, IReadOnlyList<T> values) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException($"Choice '{name}' needs at least one value.", nameof(values));
        return Choice(name, values, values[0]);
    }

    /// <summary>One of <paramref name="values"/>, with an explicit default (which must be one of them).</summary>
    public T Choice<T>(string name, IReadOnlyList<T> values, T defaultValue) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException($"Choice '{name}' needs at least one value.", nameof(values));
        if (!values.Contains(defaultValue)) throw new ArgumentException($"Choice '{name}': the default {FormatValue(defaultValue)} is not one of the values.", nameof(defaultValue));
        if (values.Distinct().Count() != values.Count) throw new ArgumentException($"Choice '{name}' lists a value twice.", nameof(values));
        return (T)Register(new ChoiceParameter(name, values.Cast<object>().ToArray(), defaultValue, typeof(T)));
    }

    /// <summary>
    /// An integer in [<paramref name="minValue"/>, <paramref name="maxValue"/>] on the grid min, min + step, … (linear) or
    /// min, min·step, … (log with step &gt; 1; log with step 1 is log-uniform over the integers). The default is <paramref name="minValue"/>.
    /// </summary>
    public int Int(string name, int minValue, int maxValue, int step = 1, Sampling sampling = Sampling.Linear, int? defaultValue = null)
    {
        if (maxValue < minValue) throw new ArgumentException($"Int '{name}': maxValue {maxValue} is below minValue {minValue}.", nameof(maxValue));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"Int '{name}': step must be at least 1, got {step}.");
        if (sampling == Sampling.Log && minValue <= 0) throw new ArgumentOutOfRangeException(nameof(minValue), $"Int '{name}': log sampling needs a positive minValue, got {minValue}.");
        int def = defaultValue ?? minValue;
        if (def < minValue || def > maxValue) throw new ArgumentOutOfRangeException(nameof(defaultValue), $"Int '{name}': the default {def} is outside [{minValue}, {maxValue}].");
        return (int)Register(new IntParameter(name, minValue, maxValue, step, sampling, def));
    }

    /// <summary>
    /// A real number in [<paramref name="minValue"/>, <paramref name="maxValue"/>]: uniform (linear) or log-uniform (log), or on a grid
    /// when <paramref name="step"/> is given (a difference for linear, a factor for log). The default is <paramref name="minValue"/>.
    /// </summary>
    public double Float(string name, double minValue, double maxValue, double? step = null, Sampling sampling = Sampling.Linear, double? defaultValue = null)
    {
        if (!double.IsFinite(minValue) || !double.IsFinite(maxValue) || maxValue < minValue)
            throw new ArgumentException($"Float '{name}': needs finite minValue ≤ maxValue, got [{minValue}, {maxValue}].", nameof(maxValue));
        if (sampling == Sampling.Log && minValue <= 0) throw new ArgumentOutOfRangeException(nameof(minValue), $"Float '{name}': log sampling needs a positive minValue, got {minValue}.");
        if (step is double s && (!(s > 0) || (sampling == Sampling.Log && !(s > 1))))
            throw new ArgumentOutOfRangeException(nameof(step), $"Float '{name}': step must be positive (and above 1 for log sampling, where it is a factor), got {s}.");
        double def = defaultValue ?? minValue;
        if (def < minValue || def > maxValue) throw new ArgumentOutOfRangeException(nameof(defaultValue), $"Float '{name}': the default {def} is outside [{minValue}, {maxValue}].");
        return (double)Register(new FloatParameter(name, minValue, maxValue, step, sampling, def));
    }

    /// <summary>True or false (default false).</summary>
    public bool Boolean(string name, bool defaultValue = false) => (bool)Register(new BooleanParameter(name, defaultValue));

    /// <summary>A value that is recorded with the trial but never searched.</summary>
    public T Fixed<T>(string name, T value) where T : notnull => (T)Register(new FixedParameter(name, value, typeof(T)));

    /// <summary>
    /// Entries registered inside the returned scope are active only while <paramref name="parentName"/> has one of
    /// <paramref name="parentValues"/>; an inactive entry returns its default and is left out of <see cref="Values"/>.
    /// </summary>
    public IDisposable ConditionalScope(string parentName, params object[] parentValues)
    {
        if (!_byName.TryGetValue(parentName, out var parent))
            throw new ArgumentException($"ConditionalScope: no hyper-parameter named '{parentName}' is registered yet; register it before the scope.", nameof(parentName));
        if (parentValues is null || parentValues.Length == 0) throw new ArgumentException("ConditionalScope needs at least one parent value.", nameof(parentValues));
        _conditions.Add((parentName, parentValues.Select(parent.Coerce).ToArray()));
        return new Scope(this);
    }

    private sealed class Scope(HyperParameters owner) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            owner._conditions.RemoveAt(owner._conditions.Count - 1);
        }
    }

    /// <summary>The current value of <paramref name="name"/>, converted to <typeparamref name="T"/> (numbers convert between int and double).</summary>
    /// <exception cref="KeyNotFoundException">No such entry or tuner value.</exception>
    public T Get<T>(string name)
    {
        if (!_values.TryGetValue(name, out var v))
            throw new KeyNotFoundException($"No hyper-parameter '{name}'; known: {string.Join(", ", _values.Keys)}.");
        if (_byName.TryGetValue(name, out var p) && !IsActive(name)) v = p.DefaultValue;
        return v is T t ? t : (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>True if <paramref name="name"/> is registered or set by a tuner.</summary>
    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>True if every condition of the entry holds (entries outside conditional scopes are always active).</summary>
    public bool IsActive(string name)
    {
        if (!_byName.TryGetValue(name, out var p)) return _values.ContainsKey(name);
        foreach (var (parent, values) in p.Conditions)
            if (!IsActive(parent) || !values.Contains(_values[parent])) return false;
        return true;
    }

    /// <summary>A copy with the same space and values.</summary>
    public HyperParameters Copy()
    {
        var c = new HyperParameters();
        foreach (var p in _space) { c._space.Add(p); c._byName[p.Name] = p; }
        foreach (var (k, v) in _values) c._values[k] = v;
        return c;
    }

    /// <summary>Sets a value: an entry's value is converted to its type and checked; other names are tuner values.</summary>
    internal void Set(string name, object value)
    {
        if (_byName.TryGetValue(name, out var p))
        {
            var v = p.Coerce(value);
            if (p is not FixedParameter && !p.GridValuesContain(v))
                throw new ArgumentException($"The value {FormatValue(v)} is outside the space of '{name}'.", nameof(value));
            _values[name] = v;
        }
        else _values[name] = value;
    }

    /// <summary>
    /// Adds the entries of <paramref name="other"/> that this space lacks (entries a build registered for the first time, e.g.
    /// inside a conditional branch the defaults do not take), with <paramref name="other"/>'s values.
    /// </summary>
    internal void MergeSpace(HyperParameters other)
    {
        foreach (var p in other._space)
        {
            if (_byName.ContainsKey(p.Name)) continue;
            _space.Add(p);
            _byName[p.Name] = p;
            _values[p.Name] = p.Coerce(other._values[p.Name]);
        }
    }

    /// <summary>Draws a value for every entry, in registration order.</summary>
    internal void SampleAll(Rng rng)
    {
        foreach (var p in _space) _values[p.Name] = p.Sample(rng);
    }

    /// <summary>A text key of the active entries' values (two trials with the same key are the same configuration).</summary>
    internal string Key() => string.Join(";", _space.Where(p => IsActive(p.Name)).Select(p => p.Name + "=" + FormatValue(_values[p.Name])));

    private object Register(HyperParameter p)
    {
        if (_byName.TryGetValue(p.Name, out var existing))
        {
            if (!existing.SameDefinition(p))
                throw new ArgumentException($"Hyper-parameter '{p.Name}' is already registered with another definition; names are unique.");
            p = existing;
        }
        else
        {
            p.Conditions = _conditions.ToArray();
            _space.Add(p);
            _byName[p.Name] = p;
            _values[p.Name] = _values.TryGetValue(p.Name, out var stored) ? p.Coerce(stored) : p.DefaultValue;   // a value read back from a record
        }
        return IsActive(p.Name) ? _values[p.Name] : p.DefaultValue;
    }

    internal static string FormatValue(object v) => v switch
    {
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <inheritdoc/>
    public override string ToString() => string.Join(", ", Values.Select(kv => $"{kv.Key}={FormatValue(kv.Value)}"));
}

internal static class ParameterValues
{
    /// <summary>A stored value converted to <paramref name="type"/> (JSON gives doubles, longs, strings and bools).</summary>
    public static object To(object value, Type type) =>
        value.GetType() == type ? value : Convert.ChangeType(value, type, CultureInfo.InvariantCulture);

    public static bool SameNumber(double a, double b) => a == b || Math.Abs(a - b) <= 1e-12 * Math.Max(Math.Abs(a), Math.Abs(b));
}

internal sealed class ChoiceParameter(string name, object[] values, object defaultValue, Type type) : HyperParameter(name, defaultValue)
{
    internal override object Sample(Rng rng) => values[rng.NextInt(values.Length)];
    internal override IReadOnlyList<object> GridValues() => values;
    internal override object Coerce(object value)
    {
        var v = ParameterValues.To(value, type);
        if (v is double d) return values.FirstOrDefault(x => ParameterValues.SameNumber((double)x, d)) ?? v;
        return v;
    }
    internal override bool SameDefinition(HyperParameter other) => other is ChoiceParameter c && c.Type == Type && c.Values.SequenceEqual(values);
    private Type Type => type;
    private object[] Values => values;
    public override string ToString() => $"Choice({Name}: {string.Join(", ", values.Select(Format))}; default {Format(DefaultValue)})";
}

internal sealed class IntParameter(string name, int min, int max, int step, Sampling sampling, int def) : HyperParameter(name, def)
{
    private int[]? _grid;

    private int[] Grid => _grid ??= BuildGrid();

    private int[] BuildGrid()
    {
        var g = new List<int>();
        if (sampling == Sampling.Log && step > 1)
            for (long v = min; v <= max; v *= step) g.Add((int)v);
        else
            for (long v = min; v <= max; v += step) g.Add((int)v);
        return g.ToArray();
    }

    internal override object Sample(Rng rng)
    {
        if (sampling == Sampling.Log && step == 1)
        {
            // Log-uniform over [min, max + 1), floored: P(k) ∝ ln((k + 1) / k).
            double v = Math.Exp(Math.Log(min) + rng.NextDouble() * (Math.Log(max + 1.0) - Math.Log(min)));
            return Math.Clamp((int)Math.Floor(v), min, max);
        }
        return Grid[rng.NextInt(Grid.Length)];
    }

    internal override IReadOnlyList<object> GridValues() => Grid.Cast<object>().ToArray();
    internal override object Coerce(object value) => value is double d ? (int)Math.Round(d) : ParameterValues.To(value, typeof(int));
    internal bool Contains(int v) => v >= min && v <= max && (sampling == Sampling.Log && step == 1 || Array.IndexOf(Grid, v) >= 0);
    internal override bool SameDefinition(HyperParameter other) => other is IntParameter p && p.ToString() == ToString();
    public override string ToString() => $"Int({Name}: min {min}, max {max}, step {step}, {sampling.ToString().ToLowerInvariant()}; default {def})";
}

internal sealed class FloatParameter(string name, double min, double max, double? step, Sampling sampling, double def) : HyperParameter(name, def)
{
    /// <summary>Grid points when no step is given.</summary>
    internal const int DefaultGridPoints = 10;

    internal override object Sample(Rng rng)
    {
        if (step is not null)
        {
            var g = Grid();
            return g[rng.NextInt(g.Length)];
        }
        double u = rng.NextDouble();
        return sampling == Sampling.Log
            ? Math.Min(max, Math.Exp(Math.Log(min) + u * (Math.Log(max) - Math.Log(min))))
            : min + u * (max - min);
    }

    private double[] Grid()
    {
        var g = new List<double>();
        if (step is double s)
        {
            for (int k = 0; ; k++)
            {
                double v = sampling == Sampling.Log ? min * Math.Pow(s, k) : min + k * s;
                if (v > max * (1 + 1e-12) + 1e-15) break;
                double r = Math.Round(v, 12);   // 0.1 · 3 is 0.30000000000000004: keep the value a person wrote
                if (Math.Abs(r - v) <= 1e-12 * Math.Max(1, Math.Abs(v))) v = r;
                g.Add(Math.Min(v, max));
            }
        }
        else
        {
            for (int k = 0; k < DefaultGridPoints; k++)
            {
                double t = k / (DefaultGridPoints - 1.0);
                g.Add(sampling == Sampling.Log ? Math.Exp(Math.Log(min) + t * (Math.Log(max) - Math.Log(min))) : min + t * (max - min));
            }
        }
        return g.Distinct().ToArray();
    }

    internal override IReadOnlyList<object> GridValues() => Grid().Cast<object>().ToArray();
    internal override object Coerce(object value) => ParameterValues.To(value, typeof(double));
    internal bool Contains(double v) => v >= min * (1 - 1e-12) - 1e-15 && v <= max * (1 + 1e-12) + 1e-15;
    internal override bool SameDefinition(HyperParameter other) => other is FloatParameter p && p.ToString() == ToString();
    public override string ToString() =>
        $"Float({Name}: min {Format(min)}, max {Format(max)}{(step is double s ? ", step " + Format(s) : "")}, {sampling.ToString().ToLowerInvariant()}; default {Format(def)})";
}

internal sealed class BooleanParameter(string name, bool def) : HyperParameter(name, def)
{
    internal override object Sample(Rng rng) => rng.NextInt(2) == 1;
    internal override IReadOnlyList<object> GridValues() => [false, true];
    internal override object Coerce(object value) => ParameterValues.To(value, typeof(bool));
    internal override bool SameDefinition(HyperParameter other) => other is BooleanParameter b && b.DefaultValue.Equals(DefaultValue);
    public override string ToString() => $"Boolean({Name}; default {Format(DefaultValue)})";
}

internal sealed class FixedParameter(string name, object value, Type type) : HyperParameter(name, value)
{
    internal override object Sample(Rng rng) => DefaultValue;
    internal override IReadOnlyList<object> GridValues() => [DefaultValue];
    internal override object Coerce(object v) => ParameterValues.To(v, type);
    internal override bool SameDefinition(HyperParameter other) => other is FixedParameter f && f.DefaultValue.Equals(DefaultValue);
    public override string ToString() => $"Fixed({Name}: {Format(DefaultValue)})";
}

internal static class HyperParameterChecks
{
    public static bool GridValuesContain(this HyperParameter p, object v) => p switch
    {
        IntParameter i => i.Contains((int)v),
        FloatParameter f => f.Contains((double)v),
        _ => p.GridValues().Contains(v),
    };
}
