using System.Text;

namespace ConvNet.Data;

/// <summary>
/// Orders strings by Unicode code point, like Python's <c>sorted()</c> on <c>str</c>. This equals
/// <see cref="string.CompareOrdinal(string, string)"/> except that characters above U+FFFF (surrogate
/// pairs in UTF-16) sort after U+E000–U+FFFF, as they do in Python.
/// </summary>
public sealed class CodePointComparer : IComparer<string>
{
    private CodePointComparer() { }

    /// <summary>The shared instance.</summary>
    public static CodePointComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var ex = x.EnumerateRunes();
        var ey = y.EnumerateRunes();
        while (true)
        {
            bool hx = ex.MoveNext(), hy = ey.MoveNext();
            if (!hx || !hy) return hx == hy ? 0 : hx ? 1 : -1;
            int c = ex.Current.Value.CompareTo(ey.Current.Value);
            if (c != 0) return c;
        }
    }
}
