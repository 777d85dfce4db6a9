using System.Globalization;

namespace ConvNet;

/// <summary>
/// Joins its inputs along one axis, like Keras <c>Concatenate(axis: -1)</c> (the channels in NHWC, as the Inception module
/// uses it). Axes count the batch as 0: -1 and rank−1 are the last axis; axis 0 (the batch) is not allowed.
/// Shapes must agree on every other axis. dL/dxᵢ is the slice of dL/dy that xᵢ filled.
/// </summary>
public sealed class Concatenate : Merge
{
    private Tensor? _y;
    private Tensor?[] _dx = [];
    private int _axis;          // resolved axis within the per-sample shape
    private int[] _widths = []; // per input: its extent along the axis × the inner block size

    /// <summary>Creates the layer.</summary>
    public Concatenate(int axis = -1, string? name = null) : base(name) => Axis = axis;

    /// <summary>The axis (batch = 0, negative counts from the end).</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public override string TypeName => "Concatenate";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<IReadOnlyList<int>> inputShapes)
    {
        int rank = inputShapes[0].Count;
        int a = Axis < 0 ? Axis + rank + 1 : Axis;   // in batch-inclusive numbering
        if (a < 1 || a > rank)
            throw ShapesError(inputShapes, $"axis {Axis} is outside the axes 1..{rank} of a rank-{rank + 1} input (axis 0 is the batch)");
        int axis = a - 1;
        var output = inputShapes[0].ToArray();
        for (int i = 1; i < inputShapes.Count; i++)
        {
            var s = inputShapes[i];
            if (s.Count != rank) throw ShapesError(inputShapes, "the inputs have different ranks");
            for (int d = 0; d < rank; d++)
                if (d != axis && s[d] != inputShapes[0][d])
                    throw ShapesError(inputShapes, $"all dimensions except the concatenation axis {Axis} must match (axis {d + 1} differs)");
            long sum = (long)output[axis] + s[axis];
            if (sum > int.MaxValue)
                throw ShapesError(inputShapes, $"the concatenation axis {Axis} would have {sum:N0} entries, more than an int holds");
            output[axis] = (int)sum;
        }
        ShapeChecks.RequireFits(this, output, "output", inputShapes[0]);
        return output;
    }

    internal override void BuildFor(IReadOnlyList<int>[] inputShapes)
    {
        base.BuildFor(inputShapes);
        int rank = inputShapes[0].Count;
        _axis = (Axis < 0 ? Axis + rank + 1 : Axis) - 1;
        int inner = 1;
        for (int d = _axis + 1; d < rank; d++) inner *= inputShapes[0][d];
        _widths = inputShapes.Select(s => s[_axis] * inner).ToArray();
        _dx = new Tensor?[inputShapes.Length];
    }

    // y viewed as (outer, Σ widths): row r is input 0's row r, then input 1's row r, …
    private protected override Tensor MergeForward(Tensor[] inputs, int n)
    {
        var y = OutputBuffer(ref _y, n);
        int total = _widths.Sum(), outer = y.Length / total;
        var ys = y.Span;
        for (int r = 0, off = 0; r < outer; r++)
            for (int i = 0; i < inputs.Length; i++)
            {
                int w = _widths[i];
                inputs[i].Span.Slice(r * w, w).CopyTo(ys.Slice(off, w));
                off += w;
            }
        return y;
    }

    private protected override void MergeBackward(Tensor dy, Tensor?[] inputGradients)
    {
        int n = dy.Shape[0], total = _widths.Sum(), outer = dy.Length / total;
        for (int i = 0; i < inputGradients.Length; i++) inputGradients[i] = InputWorkspace(_dx, i, n);
        var ds = dy.Span;
        for (int r = 0, off = 0; r < outer; r++)
            for (int i = 0; i < inputGradients.Length; i++)
            {
                int w = _widths[i];
                ds.Slice(off, w).CopyTo(inputGradients[i]!.Span.Slice(r * w, w));
                off += w;
            }
    }

    internal override void WriteConfig(IDictionary<string, string> config) => config["axis"] = Axis.ToString(CultureInfo.InvariantCulture);
}
