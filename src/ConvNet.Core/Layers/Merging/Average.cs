using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>Element-wise mean of its inputs, like Keras <c>Average</c>: y = (x₀ + … + x_{k−1}) / k; every dL/dxᵢ = dL/dy / k.</summary>
public sealed class Average : Merge
{
    private Tensor? _y, _dx;

    /// <summary>Creates the layer.</summary>
    public Average(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string TypeName => "Average";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<IReadOnlyList<int>> inputShapes) => SameShape(inputShapes);

    private protected override Tensor MergeForward(Tensor[] inputs, int n)
    {
        var y = OutputBuffer(ref _y, n);
        TensorPrimitives.Add(inputs[0].Span, inputs[1].Span, y.Span);
        for (int i = 2; i < inputs.Length; i++) TensorPrimitives.Add(y.Span, inputs[i].Span, y.Span);
        TensorPrimitives.Multiply(y.Span, 1f / inputs.Length, y.Span);
        return y;
    }

    private protected override void MergeBackward(Tensor dy, Tensor?[] inputGradients)
    {
        var dx = Workspace(ref _dx, dy.Shape);
        TensorPrimitives.Multiply(dy.Span, 1f / inputGradients.Length, dx.Span);
        for (int i = 0; i < inputGradients.Length; i++) inputGradients[i] = dx;
    }
}
