using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>Element-wise sum of its inputs, like Keras <c>Add</c>: y = x₀ + x₁ + …; every dL/dxᵢ = dL/dy.</summary>
public sealed class Add : Merge
{
    private Tensor? _y;

    /// <summary>Creates the layer.</summary>
    public Add(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string TypeName => "Add";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<IReadOnlyList<int>> inputShapes) => SameShape(inputShapes);

    private protected override Tensor MergeForward(Tensor[] inputs, int n)
    {
        var y = OutputBuffer(ref _y, n);
        TensorPrimitives.Add(inputs[0].Span, inputs[1].Span, y.Span);
        for (int i = 2; i < inputs.Length; i++) TensorPrimitives.Add(y.Span, inputs[i].Span, y.Span);
        return y;
    }

    private protected override void MergeBackward(Tensor dy, Tensor?[] inputGradients)
    {
        for (int i = 0; i < inputGradients.Length; i++) inputGradients[i] = dy;
    }
}
