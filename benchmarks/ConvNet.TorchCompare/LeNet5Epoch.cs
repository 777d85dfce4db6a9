using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ConvNet.TorchCompare;

/// <summary>
/// LeNet-5 as ConvNet's <c>ModelZoo.LeNet5</c> builds it (tanh, average pooling, 61,706 parameters), in PyTorch NCHW:
/// 1×32×32 → ×1/255 → Conv2d(1,6,5) tanh → AvgPool 2 → Conv2d(6,16,5) tanh → AvgPool 2 → Conv2d(16,120,5) tanh → Flatten →
/// Linear(120,84) tanh → Linear(84,10).
/// </summary>
internal sealed class LeNet5 : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> body;

    public LeNet5() : base(nameof(LeNet5))
    {
        body = Sequential(
            ("c1", Conv2d(1, 6, 5)), ("t1", Tanh()), ("s2", AvgPool2d(2)),
            ("c3", Conv2d(6, 16, 5)), ("t3", Tanh()), ("s4", AvgPool2d(2)),
            ("c5", Conv2d(16, 120, 5)), ("t5", Tanh()),
            ("flatten", Flatten()),
            ("f6", Linear(120, 84)), ("t6", Tanh()),
            ("out", Linear(84, 10)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => body.forward(x.mul(1.0f / 255.0f));
}

/// <summary>
/// One MNIST-sized epoch, as <c>convnet train --model lenet5 --data MNIST</c> runs it: 54,000 training images (60,000 minus
/// the last 6,000 held out) shuffled into batches of 32 (the last one has 16), Adam(1e-3, ε 1e-7) on cross-entropy of logits,
/// then inference over the 6,000 validation images in batches of 32. Pixels are random 0–255 (time does not depend on them).
/// </summary>
internal static class LeNet5Epoch
{
    public const int Train = 54_000, Val = 6_000, Batch = 32;
    public const long ExpectedParameters = 61_706;

    /// <summary>Seconds for one epoch (training + validation), after a 20-step warm-up.</summary>
    public static (double Train, double Val) Run()
    {
        using var model = new LeNet5();
        long nParams = model.parameters().Sum(p => p.numel());
        if (nParams != ExpectedParameters) throw new InvalidOperationException($"LeNet-5 parameter count {nParams} != {ExpectedParameters}");
        using var opt = torch.optim.Adam(model.parameters(), lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7);
        using var lossFn = CrossEntropyLoss();
        using var x = torch.randint(0, 256, [Train + Val, 1, 32, 32], dtype: ScalarType.Float32);
        using var y = torch.randint(0, 10, [Train + Val], dtype: ScalarType.Int64);

        void Step(Tensor idx)
        {
            using var scope = torch.NewDisposeScope();
            model.train();
            opt.zero_grad();
            var loss = lossFn.forward(model.forward(x.index_select(0, idx)), y.index_select(0, idx));
            loss.backward();
            opt.step();
        }

        using (var warm = torch.arange(0, Batch, dtype: ScalarType.Int64))
            for (int i = 0; i < 20; i++) Step(warm);

        var sw = Stopwatch.StartNew();
        using (var perm = torch.randperm(Train, dtype: ScalarType.Int64))
            for (int s = 0; s < Train; s += Batch)
                using (var idx = perm.narrow(0, s, Math.Min(Batch, Train - s))) Step(idx);
        double train = sw.Elapsed.TotalSeconds;

        sw.Restart();
        model.eval();
        using (torch.no_grad())
            for (int s = Train; s < Train + Val; s += Batch)
            {
                using var scope = torch.NewDisposeScope();
                _ = model.forward(x.narrow(0, s, Math.Min(Batch, Train + Val - s))).argmax(1);
            }

        return (train, sw.Elapsed.TotalSeconds);
    }
}
