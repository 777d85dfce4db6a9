using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>Element-wise product of its inputs, like Keras <c>Multiply</c>: y = x₀ ⊙ x₁ ⊙ …; dL/dxᵢ = dL/dy ⊙ Π_{j≠i} xⱼ.</summary>
public sealed class Multiply : Merge
{
    private Tensor? _y;
    private Tensor?[] _dx = [];
    private Tensor[] _x = [];

    /// <summary>Creates the layer.</summary>
    public Multiply(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string TypeName => "Multiply";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<IReadOnlyList<int>> inputShapes) => SameShape(inputShapes);

    private protected override Tensor MergeForward(Tensor[] inputs, int n)
    {
        if (_x.Length != inputs.Length) { _x = new Tensor[inputs.Length]; _dx = new Tensor?[inputs.Length]; }
        inputs.CopyTo(_x, 0);
        var y = OutputBuffer(ref _y, n);
        TensorPrimitives.Multiply(inputs[0].Span, inputs[1].Span, y.Span);
        for (int i = 2; i < inputs.Length; i++) TensorPrimitives.Multiply(y.Span, inputs[i].Span, y.Span);
        return y;
    }

    private protected override void MergeBackward(Tensor dy, Tensor?[] inputGradients)
    {
        int n = dy.Shape[0];
        for (int i = 0; i < _x.Length; i++)
        {
            var dx = InputWorkspace(_dx, i, n);
            dy.Span.CopyTo(dx.Span);
            for (int j = 0; j < _x.Length; j++)
                if (j != i) TensorPrimitives.Multiply(dx.Span, _x[j].Span, dx.Span);
            inputGradients[i] = dx;
        }
    }
}
