using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>Mean over height and width: (N, H, W, C) → (N, C), like Keras <c>GlobalAveragePooling2D</c>.</summary>
public sealed class GlobalAveragePooling2D : Layer
{
    private Tensor? _y, _dx;

    /// <summary>Creates the layer.</summary>
    public GlobalAveragePooling2D(string? name = null) : base(name) { }
    /// <inheritdoc/>
    public override string TypeName => "GlobalAveragePooling2D";
    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3) throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"GlobalAveragePooling2D needs rank-4 NHWC input, got rank {s.Count + 1}");
        ShapeChecks.RequireFits(this, s, "input", s);
        return [s[2]];
    }
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0], hw = InputShape![0] * InputShape[1], c = InputShape[2];
        var y = OutputBuffer(ref _y, n);
        // y[n, :] = (1/HW) Σ_pixels x[n, pixel, :]
        for (int i = 0; i < n; i++)
        {
            var yi = y.Span.Slice(i * c, c);
            yi.Clear();
            for (int p = 0; p < hw; p++) TensorPrimitives.Add(yi, x.Span.Slice((i * hw + p) * c, c), yi);
            TensorPrimitives.Multiply(yi, 1f / hw, yi);
        }
        return y;
    }
    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        int n = dy.Shape[0], hw = InputShape![0] * InputShape[1], c = InputShape[2];
        var dx = Workspace(ref _dx, n, InputShape);
        // dx[n, pixel, :] = dy[n, :] / HW
        for (int i = 0; i < n; i++)
        {
            var first = dx.Span.Slice(i * hw * c, c);
            TensorPrimitives.Multiply(dy.Span.Slice(i * c, c), 1f / hw, first);
            for (int p = 1; p < hw; p++) first.CopyTo(dx.Span.Slice((i * hw + p) * c, c));
        }
        return dx;
    }
    internal override void WriteConfig(IDictionary<string, string> c) { }
}
