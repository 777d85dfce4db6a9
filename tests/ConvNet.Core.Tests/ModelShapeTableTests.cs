using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Keras-style model summaries (shapes and parameter counts) by chaining layers' Build on the previous OutputShape.</summary>
public class ModelShapeTableTests
{
    private static (List<int[]> Shapes, List<long> Params) Chain(int[] input, params Layer[] layers)
    {
        var shapes = new List<int[]>(); var counts = new List<long>();
        IReadOnlyList<int> s = input;
        foreach (var l in layers)
        {
            l.Build(s);
            s = l.OutputShape!;
            shapes.Add(s.ToArray());
            counts.Add(l.ParamCount);
        }
        return (shapes, counts);
    }

    [Fact]
    public void MandarinModel()
    {
        var (shapes, counts) = Chain([80, 80, 1],
            new Input(80, 80, 1),
            new Rescaling(1f / 255),
            new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu),
            new MaxPooling2D(),
            new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu),
            new MaxPooling2D(),
            new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu),
            new MaxPooling2D(),
            new Flatten(),
            new Dense(128, Activation.Relu),
            new Dense(57));
        int[][] expectShapes =
        [
            [80, 80, 1], [80, 80, 1], [80, 80, 16], [40, 40, 16], [40, 40, 32], [20, 20, 32], [20, 20, 64], [10, 10, 64], [6400], [128], [57],
        ];
        Assert.Equal(expectShapes, shapes);
        Assert.Equal([0L, 0, 160, 0, 4_640, 0, 18_496, 0, 0, 819_328, 7_353], counts);
        Assert.Equal(849_977L, counts.Sum());
    }

    [Fact]
    public void LeNet5()
    {
        var (shapes, counts) = Chain([32, 32, 1],
            new Conv2D(6, 5, activation: Activation.Tanh),
            new AveragePooling2D(2),
            new Conv2D(16, 5, activation: Activation.Tanh),
            new AveragePooling2D(2),
            new Conv2D(120, 5, activation: Activation.Tanh),
            new Flatten(),
            new Dense(84, Activation.Tanh),
            new Dense(10));
        int[][] expectShapes = [[28, 28, 6], [14, 14, 6], [10, 10, 16], [5, 5, 16], [1, 1, 120], [120], [84], [10]];
        Assert.Equal(expectShapes, shapes);
        Assert.Equal([156L, 0, 2_416, 0, 48_120, 0, 10_164, 850], counts);
        Assert.Equal(61_706L, counts.Sum());
    }

    /// <summary>Keras' parameter formula: Conv2D kh·kw·c·filters + filters, Dense in·units + units, others 0.</summary>
    private static long FormulaParams(Layer l, IReadOnlyList<int> input) => l switch
    {
        Conv2D c => (long)c.KernelSize.Height * c.KernelSize.Width * input[2] * c.Filters + (c.UseBias ? c.Filters : 0),
        Dense d => (long)input[0] * d.Units + (d.UseBias ? d.Units : 0),
        _ => 0,
    };

    [Fact]
    public void AlexNetSingleStream()
    {
        // Shapes via ComputeOutputShape; the 58.6 M Dense weights (+ gradients ≈ 470 MB) are not allocated.
        // The convolutional layers (3.7 M parameters) are really built to check the formula against ParamCount.
        Layer[] layers =
        [
            new Conv2D(96, 11, strides: 4, activation: Activation.Relu),
            new MaxPooling2D(3, 2),
            new Conv2D(256, 5, padding: Padding.Same, activation: Activation.Relu),
            new MaxPooling2D(3, 2),
            new Conv2D(384, 3, padding: Padding.Same, activation: Activation.Relu),
            new Conv2D(384, 3, padding: Padding.Same, activation: Activation.Relu),
            new Conv2D(256, 3, padding: Padding.Same, activation: Activation.Relu),
            new MaxPooling2D(3, 2),
            new Flatten(),
            new Dense(4096, Activation.Relu),
            new Dense(4096, Activation.Relu),
            new Dense(1000),
        ];
        var shapes = new List<int[]>(); var counts = new List<long>();
        IReadOnlyList<int> s = [227, 227, 3];
        foreach (var l in layers)
        {
            long formula = FormulaParams(l, s);
            if (l is not Dense)
            {
                l.Build(s);
                Assert.Equal(formula, l.ParamCount);
            }
            counts.Add(formula);
            s = l.ComputeOutputShape(s);
            shapes.Add(s.ToArray());
        }
        Assert.Equal([55, 27, 27, 13, 13, 13, 13, 6], shapes.Take(8).Select(x => x[0]));
        Assert.Equal([55, 27, 27, 13, 13, 13, 13, 6], shapes.Take(8).Select(x => x[1]));
        Assert.Equal([96, 96, 256, 256, 384, 384, 256, 256], shapes.Take(8).Select(x => x[2]));
        Assert.Equal([9216], shapes[8]);
        Assert.Equal([4096], shapes[10]);
        Assert.Equal([1000], shapes[11]);
        Assert.Equal([34_944L, 0, 614_656, 0, 885_120, 1_327_488, 884_992, 0, 0, 37_752_832, 16_781_312, 4_097_000], counts);
        Assert.Equal(62_378_344L, counts.Sum());
    }

    [Fact]
    public void ParamFormulaMatchesBuiltLayers()
    {
        var d = new Dense(57); d.Build([128]);
        Assert.Equal(FormulaParams(d, [128]), d.ParamCount);
        var nb = new Dense(5, useBias: false); nb.Build([9]);
        Assert.Equal(45, nb.ParamCount);
        var c = new Conv2D(7, (2, 3), useBias: false); c.Build([5, 5, 4]);
        Assert.Equal(FormulaParams(c, [5, 5, 4]), c.ParamCount);
        Assert.Equal(2 * 3 * 4 * 7, c.ParamCount);
    }
}
