namespace ConvNet.Demo.Inspection;

/// <summary>
/// Runs one image through any model — a <see cref="Sequential"/> chain or a functional graph — one layer at a time (each
/// layer's own forward pass, unfused) and keeps every layer's output. Merge layers (Add, Subtract, Multiply, Average,
/// Concatenate) are applied here, element by element, since they run only inside a model's plan.
/// </summary>
internal sealed class GraphTrace
{
    /// <summary>One layer call of the graph: the layer, the nodes it reads (indices into <see cref="Nodes"/>) and its output (batch 1).</summary>
    public sealed record Node(Layer Layer, int[] Inbound, Tensor Output);

    private GraphTrace(IReadOnlyList<Node> nodes) => Nodes = nodes;

    /// <summary>The graph's nodes in topological order: the input first, the model's output last.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>Traces <paramref name="image"/> (1, h, w, c) through <paramref name="model"/>.</summary>
    public static GraphTrace Run(Model model, Tensor image)
    {
        var output = model.OutputTensor ?? throw new CliException($"Model '{model.Name}' is not built: it has no graph to explore.");
        var order = model.Tensors;
        var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        var nodes = new List<Node>();
        foreach (var t in order)
        {
            var inbound = t.InboundTensors.Select(i => index[i]).ToArray();
            Tensor value = t.Layer switch
            {
                Input => image.Clone(),
                Merge merge => ApplyMerge(merge, inbound.Select(i => nodes[i].Output).ToArray()),
                var layer => layer.Forward(nodes[inbound[0]].Output, training: false).Clone(),
            };
            index[t] = nodes.Count;
            nodes.Add(new Node(t.Layer, inbound, value));
        }
        return new GraphTrace(nodes);
    }

    private static Tensor ApplyMerge(Merge merge, Tensor[] inputs)
    {
        if (merge is Concatenate concat) return Concat(concat, inputs);
        var result = inputs[0].Clone();
        var y = result.Span;
        for (int k = 1; k < inputs.Length; k++)
        {
            var x = inputs[k].Span;
            for (int i = 0; i < y.Length; i++)
                y[i] = merge switch
                {
                    Add => y[i] + x[i],
                    Subtract => y[i] - x[i],
                    Multiply => y[i] * x[i],
                    Average => y[i] + x[i],
                    _ => throw new CliException($"Layer '{merge.Name}' ({merge.TypeName}) is a merge that explore cannot apply."),
                };
        }
        if (merge is Average)
            for (int i = 0; i < y.Length; i++) y[i] /= inputs.Length;
        return result;
    }

    private static Tensor Concat(Concatenate concat, Tensor[] inputs)
    {
        var shapes = concat.InputShapes;
        int rank = shapes[0].Count, axis = concat.Axis < 0 ? concat.Axis + rank : concat.Axis;
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= shapes[0][d];
        var blocks = shapes.Select(s => { int b = 1; for (int d = axis; d < rank; d++) b *= s[d]; return b; }).ToArray();
        int total = blocks.Sum();
        var data = new float[outer * total];
        int at = 0;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < inputs.Length; k++)
            {
                inputs[k].Span.Slice(o * blocks[k], blocks[k]).CopyTo(data.AsSpan(at));
                at += blocks[k];
            }
        return new Tensor(data, [1, .. concat.OutputShape!]);
    }
}
