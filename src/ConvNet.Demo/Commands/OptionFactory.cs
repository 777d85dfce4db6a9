using System.CommandLine;

namespace ConvNet.Demo.Commands;

/// <summary>Options shared by several commands, with validation (violations are argument errors, exit code 2).</summary>
internal static class OptionFactory
{
    /// <summary>An integer option that must be at least <paramref name="min"/>.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min)
    {
        var o = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.Validators.Add(r => CheckMin(r, name, min));
        return o;
    }

    // Validates the given token only: a value that is not an integer is already reported by the parser.
    private static void CheckMin(System.CommandLine.Parsing.OptionResult r, string name, int min)
    {
        if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v) && v < min)
            r.AddError($"{name} must be at least {min}, got {v}.");
    }

    /// <summary>An optional integer option (null when absent) that must be at least <paramref name="min"/>.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min)
    {
        var o = new Option<int?>(name) { Description = description };
        o.Validators.Add(r => CheckMin(r, name, min));
        return o;
    }

    /// <summary><c>--ratio</c>: two or three fractions or decimals summing to 1.</summary>
    public static Option<double[]?> Ratio()
    {
        return new Option<double[]?>("--ratio")
        {
            Description = $"Split ratios train,val[,test] as fractions or decimals summing to 1 (default {Ratios.LectureText}, the lecture's split).",
            HelpName = "r1,r2[,r3]",
            CustomParser = r =>
            {
                string text = string.Join(",", r.Tokens.Select(t => t.Value));
                var values = Ratios.TryParse(text, out string? error);
                if (values is null) r.AddError(error!);
                return values;
            },
        };
    }

    /// <summary>A seed option (any integer ≥ 0).</summary>
    public static Option<int> Seed(string name, string description, int defaultValue = 1337) =>
        Int(name, description, defaultValue, 0);
}
