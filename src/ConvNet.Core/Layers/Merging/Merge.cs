namespace ConvNet;

/// <summary>
/// Base of the layers that combine several tensors (<see cref="Add"/>, <see cref="Subtract"/>, <see cref="Multiply"/>,
/// <see cref="Average"/>, <see cref="Concatenate"/>), like Keras' merging layers. They are used through the functional API:
/// <c>new Add().Apply(x, y)</c>. <see cref="Layer.InputShape"/> is the first input's shape; <see cref="InputShapes"/> has all.
/// </summary>
public abstract class Merge : Layer
{
    private int[][] _inputShapes = [];

    private protected Merge(string? name) : base(name) { }

    /// <summary>Per-sample shapes of the inputs, in call order, once built.</summary>
    public IReadOnlyList<IReadOnlyList<int>> InputShapes => _inputShapes;

    internal override int MinInputs => 2;

    /// <summary>Output shape for the given input shapes; throws <see cref="LayerShapeException"/> naming every input shape.</summary>
    public abstract int[] ComputeOutputShape(IReadOnlyList<IReadOnlyList<int>> inputShapes);

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> inputShape) =>
        throw Error("two or more inputs", Fmt(inputShape, true), $"{TypeName} merges several inputs; call Apply(x, y, …)");

    internal override void BuildFor(IReadOnlyList<int>[] inputShapes)
    {
        if (inputShapes.Length < MinInputs)
            throw Error($"at least {MinInputs} inputs", $"{inputShapes.Length}", $"{TypeName} needs at least {MinInputs} inputs, got {inputShapes.Length}");
        if (IsBuilt) throw new InvalidOperationException($"Layer {Display} is already built.");
        var output = ComputeOutputShape(inputShapes);
        _inputShapes = inputShapes.Select(s => s.ToArray()).ToArray();
        SetShapes(_inputShapes[0], output);
    }

    /// <summary>An error naming every input shape.</summary>
    private protected LayerShapeException ShapesError(IReadOnlyList<IReadOnlyList<int>> shapes, string why)
    {
        string all = string.Join(" and ", shapes.Select(s => Fmt(s, true)));
        return new LayerShapeException(Name, "compatible input shapes", all, $"Layer {Display}: cannot merge inputs of shapes {all}: {why}.");
    }

    /// <summary>The shape check of the element-wise merges: every input has the first one's shape.</summary>
    private protected int[] SameShape(IReadOnlyList<IReadOnlyList<int>> shapes)
    {
        for (int i = 1; i < shapes.Count; i++)
            if (!shapes[i].SequenceEqual(shapes[0])) throw ShapesError(shapes, "element-wise merging needs equal shapes");
        return shapes[0].ToArray();
    }

    internal override Tensor ForwardNode(Tensor[] inputs, bool training, bool record)
    {
        if (inputs.Length != _inputShapes.Length)
            throw Error($"{_inputShapes.Length} inputs", $"{inputs.Length}", "the number of inputs differs from the one the layer was built for");
        int n = inputs[0].Shape[0];
        for (int i = 0; i < inputs.Length; i++)
            if (!IsBatchOf(inputs[i].Shape, _inputShapes[i]) || inputs[i].Shape[0] != n)
                throw Error(Fmt(_inputShapes[i], true), inputs[i].Shape.ToString(), $"input {i} does not have the shape the layer was built for");
        return MergeForward(inputs, n);
    }

    internal override void BackwardNode(Tensor dy, Tensor?[] inputGradients)
    {
        if (!IsBatchOf(dy.Shape, OutputShape!))
            throw Error(Fmt(OutputShape!, true), dy.Shape.ToString(), "the output gradient must have the output's shape");
        MergeBackward(dy, inputGradients);
    }

    /// <summary>Forward of validated inputs (N, …) each; returns the output (owned by the layer).</summary>
    private protected abstract Tensor MergeForward(Tensor[] inputs, int n);

    /// <summary>Writes dL/d(input i) into <paramref name="inputGradients"/>[i] (owned by the layer, or <paramref name="dy"/> itself).</summary>
    private protected abstract void MergeBackward(Tensor dy, Tensor?[] inputGradients);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training) =>
        throw new InvalidOperationException($"Layer {Display} merges several inputs: use it through the functional API (Apply(x, y)).");

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy) =>
        throw new InvalidOperationException($"Layer {Display} merges several inputs: use it through the functional API (Apply(x, y)).");

    internal override void WriteConfig(IDictionary<string, string> config) { }

    /// <summary>The workspace <paramref name="buffers"/>[<paramref name="i"/>] shaped like input i with batch <paramref name="n"/>.</summary>
    private protected Tensor InputWorkspace(Tensor?[] buffers, int i, int n) => Workspace(ref buffers[i], n, _inputShapes[i]);
}
