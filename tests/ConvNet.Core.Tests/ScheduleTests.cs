using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Learning-rate schedules at given steps, against the Keras 3 formulas worked out by hand.</summary>
public class ScheduleTests
{
    [Theory]
    [InlineData(0, false, 0.1)]
    [InlineData(5, false, 0.07071067811865475)]   // 0.1·0.5^0.5
    [InlineData(10, false, 0.05)]
    [InlineData(25, false, 0.01767766952966369)]  // 0.1·0.5^2.5
    [InlineData(25, true, 0.025)]                 // staircase: 0.1·0.5^2
    [InlineData(9, true, 0.1)]
    public void ExponentialDecayValues(long step, bool staircase, double expected) =>
        Assert.Equal(expected, new ExponentialDecay(0.1f, 10, 0.5f, staircase).At(step), 1e-8);

    [Theory]
    [InlineData(0, 0.0, 1.0)]
    [InlineData(25, 0.0, 0.8535533905932737)]     // ½(1 + cos(π/4))
    [InlineData(50, 0.0, 0.5)]
    [InlineData(100, 0.0, 0.0)]
    [InlineData(150, 0.0, 0.0)]                   // the step is clamped to decaySteps
    [InlineData(50, 0.1, 0.55)]                   // (1 − 0.1)·0.5 + 0.1
    [InlineData(1000, 0.1, 0.1)]
    public void CosineDecayValues(long step, double alpha, double expected) =>
        Assert.Equal(expected, new CosineDecay(1f, 100, (float)alpha).At(step), 1e-7);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.5)]      // linear warm-up from 0 to 1 over 10 steps
    [InlineData(10, 1.0)]     // warm-up done: the decay starts from the target
    [InlineData(60, 0.5)]     // half way through the 100 decay steps
    [InlineData(110, 0.0)]
    [InlineData(500, 0.0)]
    public void CosineDecayWithWarmupValues(long step, double expected) =>
        Assert.Equal(expected, new CosineDecay(0f, 100, warmupTarget: 1f, warmupSteps: 10).At(step), 1e-7);

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(10, 1.0)]     // step ≤ boundaries[0]
    [InlineData(11, 0.5)]
    [InlineData(20, 0.5)]
    [InlineData(21, 0.1)]
    [InlineData(1_000_000, 0.1)]
    public void PiecewiseConstantDecayValues(long step, double expected) =>
        Assert.Equal(expected, new PiecewiseConstantDecay([10, 20], [1f, 0.5f, 0.1f]).At(step), 6);

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0.1f, 0, 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(float.NaN, 10, 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0.1f, 10, -0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(0.1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(0.1f, 10, alpha: 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(0.1f, 10, warmupTarget: 1f));   // warm-up target without steps
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(0f, 10));                        // would never train
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10, 20], [1f, 0.5f]));
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([20, 10], [1f, 0.5f, 0.1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PiecewiseConstantDecay([10], [1f, float.NaN]));
    }

    private sealed class Broken : LearningRateSchedule
    {
        public override double At(long step) => step == 0 ? 0.1 : double.NaN;
    }

    [Fact]
    public void ACustomScheduleReturningNaNStopsBeforeTheUpdate()
    {
        var opt = new SGD(new Broken());
        var p = new Parameter("w", new Tensor([1f], 1));
        p.Grad.Span[0] = 1f;
        opt.Step([p]);
        Assert.Equal(0.9f, p.Value.Span[0], 6);
        p.Grad.Span[0] = 1f;
        var e = Assert.Throws<InvalidOperationException>(() => opt.Step([p]));
        Assert.Contains("Broken", e.Message);
        Assert.Equal(0.9f, p.Value.Span[0], 6);
        Assert.Equal(1, opt.Iterations);
    }
}
