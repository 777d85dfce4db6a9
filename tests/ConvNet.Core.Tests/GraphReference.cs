namespace ConvNet.Core.Tests;

/// <summary>
/// A double-precision forward pass of a whole model graph (functional, Sequential or nested), built from the per-layer
/// references of <see cref="DoubleReference"/>: the reference that the graph gradient checks differentiate.
/// Parameters are consumed in <see cref="Layer.Parameters"/> order of the model.
/// </summary>
internal static class GraphReference
{
    public static ReferenceForward For(Model model) => (x, ps) =>
    {
        int pi = 0;
        int n = x.Length / model.InputShape!.Aggregate(1, (a, b) => a * b);
        var y = Forward(model, x, n, ps, ref pi);
        if (pi != ps.Length) throw new InvalidOperationException($"used {pi} of {ps.Length} parameter tensors");
        return y;
    };

    private static double[] Forward(Model model, double[] x, int n, double[][] ps, ref int pi)
    {
        var values = new Dictionary<SymbolicTensor, double[]>(ReferenceEqualityComparer.Instance) { [model.InputTensor!] = x };
        foreach (var layer in model.Layers)
        {
            if (layer is Input) continue;
            var t = layer.CallOutput!;
            var ins = t.Inputs.Select(i => values[i]).ToArray();
            values[t] = Layer(layer, t.Inputs[0].Shape, ins, n, ps, ref pi);
        }
        return values[model.OutputTensor!];
    }

    private static double[] Layer(Layer layer, IReadOnlyList<int> s, double[][] ins, int n, double[][] ps, ref int pi)
    {
        var x = ins[0];
        switch (layer)
        {
            case Model inner:
                return Forward(inner, x, n, ps, ref pi);
            case Conv2D c:
            {
                var k = ps[pi++]; var b = c.UseBias ? ps[pi++] : null;
                return DoubleReference.Conv2D(x, n, s[0], s[1], s[2], k, b, c.KernelSize.Height, c.KernelSize.Width,
                    c.Strides.Height, c.Strides.Width, c.Padding, c.Filters, c.Activation);
            }
            case Dense d:
            {
                var k = ps[pi++]; var b = d.UseBias ? ps[pi++] : null;
                return DoubleReference.Dense(x, n, s[0], k, b, d.Units, d.Activation);
            }
            case MaxPooling2D p:
                return DoubleReference.Pool(x, n, s[0], s[1], s[2], p.PoolSize.Height, p.PoolSize.Width, p.Strides.Height, p.Strides.Width, p.Padding, max: true);
            case AveragePooling2D p:
                return DoubleReference.Pool(x, n, s[0], s[1], s[2], p.PoolSize.Height, p.PoolSize.Width, p.Strides.Height, p.Strides.Width, p.Padding, max: false);
            case GlobalAveragePooling2D:
                return DoubleReference.GlobalAveragePooling(x, n, s[0], s[1], s[2]);
            case Flatten:
                return x.ToArray();
            case Rescaling r:
                return x.Select(v => v * r.Scale + r.Offset).ToArray();
            case ReLU:
                return DoubleReference.Apply(Activation.Relu, x.ToArray(), s[^1]);
            case Tanh:
                return DoubleReference.Apply(Activation.Tanh, x.ToArray(), s[^1]);
            case Add:
                return Elementwise(ins, (a, b) => a + b);
            case Subtract:
                return Elementwise(ins, (a, b) => a - b);
            case Multiply:
                return Elementwise(ins, (a, b) => a * b);
            case Average:
                return Elementwise(ins, (a, b) => a + b).Select(v => v / ins.Length).ToArray();
            case Concatenate cat:
                return Concat(cat, ins);
            default:
                throw new NotSupportedException($"no double reference for {layer.TypeName}");
        }
    }

    private static double[] Elementwise(double[][] ins, Func<double, double, double> f)
    {
        var y = ins[0].ToArray();
        for (int k = 1; k < ins.Length; k++)
            for (int i = 0; i < y.Length; i++) y[i] = f(y[i], ins[k][i]);
        return y;
    }

    // y[outer, Σ widths]: for every outer index, each input's block along the axis in turn.
    private static double[] Concat(Concatenate cat, double[][] ins)
    {
        var shapes = cat.InputShapes;
        int rank = shapes[0].Count, axis = (cat.Axis < 0 ? cat.Axis + rank + 1 : cat.Axis) - 1;
        int inner = 1;
        for (int d = axis + 1; d < rank; d++) inner *= shapes[0][d];
        var widths = shapes.Select(sh => sh[axis] * inner).ToArray();
        int outer = ins[0].Length / widths[0];
        var y = new List<double>();
        for (int r = 0; r < outer; r++)
            for (int i = 0; i < ins.Length; i++)
                y.AddRange(ins[i].Skip(r * widths[i]).Take(widths[i]));
        return [.. y];
    }
}
