using System.Reflection;
using System.Runtime.Intrinsics.X86;
using ConvNet.Kernels;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ConvNet.Core.Tests;

/// <summary>
/// Theory data: one case per kernel backend this CPU runs (<see cref="KernelTable.Runnable"/>), by name, so the test log
/// shows e.g. <c>EveryOutputChannelTail(backend: "Avx2")</c>. Backends the CPU lacks have no case; <see cref="KernelBackendTests"/>
/// reports them.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BackendsAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => KernelTable.Runnable.Select(b => new object[] { b.ToString() });
}

/// <summary>Which kernel backends run on this machine: every one the CPU has is compared with the naive twins on every run.</summary>
public class KernelBackendTests(ITestOutputHelper output)
{
    internal static KernelBackend Parse(string backend) => Enum.Parse<KernelBackend>(backend);

    /// <summary>The CPU's instruction sets decide the runnable backends; the others refuse to run with a message that names what does.</summary>
    [Fact]
    public void EveryBackendTheCpuRunsIsTestedAndTheOthersAreReported()
    {
        var expected = new List<KernelBackend> { KernelBackend.Portable };
        if (Avx2.IsSupported && Fma.IsSupported) expected.Add(KernelBackend.Avx2);
        if (Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported) expected.Add(KernelBackend.Avx512);
        Assert.Equal(expected, KernelTable.Runnable);
        var missing = Enum.GetValues<KernelBackend>().Except(KernelTable.Runnable).ToArray();
        output.WriteLine($"kernel backends tested against the naive twins: {string.Join(", ", KernelTable.Runnable)}; " +
            $"not runnable on this CPU: {(missing.Length == 0 ? "none" : string.Join(", ", missing))}; the public verbs use {KernelTable.Current.Backend}.");
        foreach (var b in missing)
        {
            var e = Assert.Throws<PlatformNotSupportedException>(() => KernelTable.For(b));
            Assert.Contains($"{b} needs instructions this CPU", e.Message);
            Assert.Contains("runnable: " + string.Join(", ", KernelTable.Runnable), e.Message);
        }
    }

    /// <summary>The table is chosen once: the widest runnable backend, or CONVNET_KERNELS if it names a runnable one.</summary>
    [Fact]
    public void TheTableIsTheWidestRunnableBackendUnlessOverridden()
    {
        var setting = Environment.GetEnvironmentVariable("CONVNET_KERNELS");
        Assert.Equal(KernelTable.Choose(setting), KernelTable.Current.Backend);
        Assert.Equal(KernelTable.Runnable[^1], KernelTable.Choose(null));
        Assert.Equal(KernelTable.Runnable[^1], KernelTable.Choose("no-such-backend"));
        Assert.Equal(KernelBackend.Portable, KernelTable.Choose("portable"));
        foreach (var b in KernelTable.Runnable) Assert.Equal(b, KernelTable.For(b).Backend);
    }
}
