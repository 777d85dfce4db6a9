using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// Gradient checks of whole graphs, in the style of <see cref="LayerGradientTests"/>: a model is a layer, so
/// <see cref="GradientChecker"/> compares its analytic dL/dx and every parameter gradient (every batch item, random upstream
/// gradient) with central differences of the double-precision graph reference (<see cref="GraphReference"/>) and of the
/// model's own float forward. Smooth activations (tanh, average pooling) keep the float check away from kinks.
/// </summary>
public sealed class GraphGradientTests
{
    private static void Check(Model model, int n, int seed, string label, int threads = 1)
    {
        model.Threads = threads;
        var rng = new Rng(seed);
        foreach (var p in model.Parameters) Uniform(rng, p.Value.Length, -0.6f, 0.6f).CopyTo(p.Value.Span);
        var x = RandomTensor(rng, [n, .. model.InputShape!]);
        GradientChecker.Check(model, x, GraphReference.For(model), rng, label);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ResidualBlockWithFanOut(int threads)
    {
        // a feeds both the second conv and the Add: its gradient is the sum of two paths.
        var inputs = new Input(5, 5, 3);
        var a = new Conv2D(3, 3, padding: Padding.Same, activation: Activation.Tanh).Apply(inputs);
        var b = new Conv2D(3, 3, padding: Padding.Same).Apply(a);
        var y = new Tanh().Apply(new Add().Apply(a, b));
        var model = new Model(inputs, new Dense(2).Apply(new Flatten().Apply(y)));
        Check(model, 3, 1, "residual", threads);
    }

    [Fact]
    public void ProjectionShortcutAndInputFanOut()
    {
        // the input itself feeds two branches (a strided conv and a 1×1 strided projection).
        var inputs = new Input(6, 6, 2);
        var a = new Conv2D(4, 3, 2, Padding.Same, Activation.Tanh).Apply(inputs);
        a = new Conv2D(4, 3, padding: Padding.Same).Apply(a);
        var s = new Conv2D(4, 1, 2, Padding.Same).Apply(inputs);
        var model = new Model(inputs, new GlobalAveragePooling2D().Apply(new Tanh().Apply(new Add().Apply(a, s))));
        Check(model, 2, 2, "projection shortcut");
    }

    [Fact]
    public void ConcatenateBranchesWithDifferentChannelCounts()
    {
        var inputs = new Input(4, 4, 2);
        var b1 = new Conv2D(3, 1, activation: Activation.Tanh).Apply(inputs);
        var b2 = new Conv2D(5, 3, padding: Padding.Same, activation: Activation.Tanh).Apply(inputs);
        var b3 = new AveragePooling2D(3, strides: 1, padding: Padding.Same).Apply(inputs);
        b3 = new Conv2D(2, 1).Apply(b3);
        var c = new Concatenate().Apply(b1, b2, b3);
        Assert.Equal([4, 4, 10], c.Shape);
        var model = new Model(inputs, new Dense(3).Apply(new GlobalAveragePooling2D().Apply(c)));
        Check(model, 3, 3, "concatenate");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ConcatenateOnEveryAxis(int axis)
    {
        var inputs = new Input(3, 4, 2);
        var a = new Conv2D(2, 1, activation: Activation.Tanh).Apply(inputs);
        var b = new Conv2D(2, 1).Apply(inputs);
        var c = new Concatenate(axis).Apply(a, b);
        var expected = new[] { 3, 4, 2 };
        expected[axis - 1] *= 2;
        Assert.Equal(expected, c.Shape);
        var model = new Model(inputs, new Dense(2).Apply(new Flatten().Apply(c)));
        Check(model, 2, 10 + axis, $"concatenate axis {axis}");
    }

    [Fact]
    public void AddMultiplyAverageSubtract()
    {
        var inputs = new Input(6);
        var a = new Dense(4, Activation.Tanh).Apply(inputs);
        var b = new Dense(4, Activation.Tanh).Apply(inputs);
        var c = new Dense(4).Apply(inputs);
        var merged = new Concatenate().Apply(
            new Add().Apply(a, b), new Multiply().Apply(a, c, b), new Average().Apply(a, b, c), new Subtract().Apply(b, c),
            new Add().Apply(a, a));   // one tensor twice in one call: both gradients count
        var model = new Model(inputs, new Dense(2).Apply(merged));
        Check(model, 4, 4, "merges");
    }

    [Fact]
    public void NestedModel()
    {
        var innerIn = new Input(6);
        var inner = new Model(innerIn, new Dense(4, Activation.Tanh).Apply(new Dense(5, Activation.Tanh).Apply(innerIn)), name: "inner");
        var inputs = new Input(6);
        var x = new Dense(6, Activation.Tanh).Apply(inputs);
        x = inner.Apply(x);
        var model = new Model(inputs, new Dense(3).Apply(x), name: "outer");
        Check(model, 3, 5, "nested");
    }

    [Fact]
    public void FrozenNestedModelStillPassesGradientsThrough()
    {
        // Frozen weights are not trained, but the input gradient through the frozen model is still exact.
        var innerIn = new Input(5);
        var inner = new Model(innerIn, new Dense(4, Activation.Tanh).Apply(innerIn), name: "frozen") { Trainable = false };
        var inputs = new Input(5);
        var x = new Dense(5, Activation.Tanh).Apply(inputs);
        var model = new Model(inputs, new Dense(2).Apply(inner.Apply(x, training: false)));
        Check(model, 3, 6, "frozen nested");
    }
}
