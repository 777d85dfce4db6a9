using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>Difference of exactly two inputs, like Keras <c>Subtract</c>: y = x₀ − x₁; dL/dx₀ = dL/dy, dL/dx₁ = −dL/dy.</summary>
public sealed class Subtract : Merge
{
    private Tensor? _y, _dx1;

    /// <summary>Creates the layer.</summary>
    public Subtract(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string TypeName => "Subtract";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<IReadOnlyList<int>> inputShapes)
    {
        if (inputShapes.Count != 2) throw ShapesError(inputShapes, $"Subtract takes exactly 2 inputs, got {inputShapes.Count}");
        return SameShape(inputShapes);
    }

    private protected override Tensor MergeForward(Tensor[] inputs, int n)
    {
        var y = OutputBuffer(ref _y, n);
        TensorPrimitives.Subtract(inputs[0].Span, inputs[1].Span, y.Span);
        return y;
    }

    private protected override void MergeBackward(Tensor dy, Tensor?[] inputGradients)
    {
        var dx1 = Workspace(ref _dx1, dy.Shape);
        TensorPrimitives.Negate(dy.Span, dx1.Span);
        inputGradients[0] = dy;
        inputGradients[1] = dx1;
    }
}
