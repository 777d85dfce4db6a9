using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Sequential.Summary() against the Keras 3 table of the lecture's Mandarin model.</summary>
public class SummaryTests
{
    /// <summary>The body rows of the table: (name (type), output shape, params), one per layer.</summary>
    private static List<(string Name, string Shape, string Params)> Rows(string summary) =>
        summary.Split('\n')
            .Where(l => l.StartsWith('│'))
            .Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim()).ToArray())
            .Select(c => (c[0], c[1], c[2]))
            .ToList();

    private static readonly (string Name, string Shape, string Params)[] MandarinRows =
    [
        ("rescaling (Rescaling)", "(None, 80, 80, 1)", "0"),
        ("conv2d (Conv2D)", "(None, 80, 80, 16)", "160"),
        ("max_pooling2d (MaxPooling2D)", "(None, 40, 40, 16)", "0"),
        ("conv2d_1 (Conv2D)", "(None, 40, 40, 32)", "4,640"),
        ("max_pooling2d_1 (MaxPooling2D)", "(None, 20, 20, 32)", "0"),
        ("conv2d_2 (Conv2D)", "(None, 20, 20, 64)", "18,496"),
        ("max_pooling2d_2 (MaxPooling2D)", "(None, 10, 10, 64)", "0"),
        ("flatten (Flatten)", "(None, 6400)", "0"),
        ("dense (Dense)", "(None, 128)", "819,328"),
        ("dense_1 (Dense)", "(None, 57)", "7,353"),
    ];

    [Fact]
    public void MandarinModelSummaryMatchesKeras()
    {
        var model = TrainingTestData.MandarinModel();
        var s = model.Summary();
        Assert.StartsWith("Model: \"sequential\"\n", s);
        Assert.Contains("Layer (type)", s);
        Assert.Contains("Output Shape", s);
        Assert.Contains("Param #", s);
        Assert.Equal(MandarinRows, Rows(s));
        Assert.Contains("\n Total params: 849,977 (3.24 MB)\n", s);
        Assert.Contains("\n Trainable params: 849,977 (3.24 MB)\n", s);
        Assert.Contains("\n Non-trainable params: 0 (0.00 B)\n", s);
        Assert.Equal(849_977, model.CountParams());

        // Footer lines come in Keras' order, after the table.
        var lines = s.TrimEnd('\n').Split('\n');
        Assert.Equal(" Total params: 849,977 (3.24 MB)", lines[^3]);
        Assert.Equal(" Trainable params: 849,977 (3.24 MB)", lines[^2]);
        Assert.Equal(" Non-trainable params: 0 (0.00 B)", lines[^1]);
        Assert.StartsWith("└", lines[^4]);
    }

    [Fact]
    public void TableIsRectangular()
    {
        var lines = TrainingTestData.MandarinModel().Summary().Split('\n')
            .Where(l => l.Length > 0 && "┏┃┡│├└".Contains(l[0])).ToList();
        Assert.Equal(1 + 1 + 1 + 10 + 9 + 1, lines.Count);
        Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length));
        // param column is right-aligned: every row's cell ends with the number right before " │"
        Assert.All(lines.Where(l => l.StartsWith('│')), l => Assert.Matches(@"\d │$", l));
    }

    [Fact]
    public void InputLayerIsNotListedButNamedInputLayer()
    {
        var model = TrainingTestData.MandarinModel();
        Assert.Equal("input_layer", model.Layers[0].Name);
        Assert.DoesNotContain("input_layer", model.Summary());
    }

    [Fact]
    public void CustomLayerNamesAppear()
    {
        var model = TrainingTestData.MandarinModel(customNames: true);
        var rows = Rows(model.Summary());
        Assert.Equal("conv1 (Conv2D)", rows[1].Name);
        Assert.Equal("conv2 (Conv2D)", rows[3].Name);
        Assert.Equal("conv2d (Conv2D)", rows[5].Name);      // the first unnamed Conv2D still gets the first default name
        Assert.Equal(["rescaling", "conv1", "max_pooling2d", "conv2", "max_pooling2d_1", "conv2d", "max_pooling2d_2", "flatten", "dense", "dense_1"],
            model.Layers.Skip(1).Select(l => l.Name).ToArray());
    }

    [Fact]
    public void LongCustomNameWidensTheColumn()
    {
        var model = new Sequential(new Input(4), new Dense(3, name: "a_really_long_dense_layer_name_for_the_table"));
        var s = model.Summary();
        Assert.Contains("a_really_long_dense_layer_name_for_the_table (Dense)", s);
        var lines = s.Split('\n').Where(l => l.Length > 0 && "┏┃┡│├└".Contains(l[0])).ToList();
        Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length));
        Assert.Contains(" Total params: 15 (60.00 B)", s);
    }

    [Fact]
    public void FreezingMovesParamsToNonTrainable()
    {
        var model = TrainingTestData.MandarinModel();
        model.Layers.First(l => l.Name == "dense").Trainable = false;
        var s = model.Summary();
        Assert.Contains(" Total params: 849,977 (3.24 MB)\n", s);
        Assert.Contains(" Trainable params: 30,649 (119.72 KB)\n", s);        // 849,977 − 819,328; 122,596 B / 1024
        Assert.Contains(" Non-trainable params: 819,328 (3.13 MB)\n", s);     // 3,277,312 B / 1024²
        Assert.Equal(MandarinRows, Rows(s));                                   // the table itself is unchanged

        model.Layers.First(l => l.Name == "conv2d").Trainable = false;
        s = model.Summary();
        Assert.Contains(" Trainable params: 30,489 (119.10 KB)\n", s);
        Assert.Contains(" Non-trainable params: 819,488 (3.13 MB)\n", s);
        Assert.Equal(30_489, model.TrainableParameters.Sum(p => p.Value.Length));
    }

    [Theory]
    [InlineData(0.0, "0.00 B")]
    [InlineData(640.0, "640.00 B")]
    [InlineData(1023.0, "1023.00 B")]
    [InlineData(1024.0, "1.00 KB")]
    [InlineData(3_399_908.0, "3.24 MB")]
    [InlineData(1073741824.0, "1.00 GB")]
    public void ReadableMemorySize(double bytes, string expected) => Assert.Equal(expected, Sequential.Bytes(bytes));

    [Fact]
    public void SummaryOfUnbuiltModelThrows()
    {
        var model = new Sequential(new Dense(3));
        var e = Assert.Throws<InvalidOperationException>(() => model.Summary());
        Assert.Contains("not built", e.Message);
    }

    [Fact]
    public void ModelBuiltFromShapeHasSameSummary()
    {
        var model = new Sequential(
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
        model.Build(80, 80, 1);
        Assert.Equal(MandarinRows, Rows(model.Summary()));
    }
}
