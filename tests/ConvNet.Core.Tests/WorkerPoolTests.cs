using ConvNet.Threading;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>The pool's parts are claimed by whichever thread is free: every part still runs exactly once per Run, with its
/// fixed range, and an exception in a part reaches the caller.</summary>
public sealed class WorkerPoolTests
{
    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 7)]
    [InlineData(3, 5)]
    public void EveryPartRunsOncePerRunWithItsRange(int threads, int n)
    {
        var pool = WorkerPool.ForThreads(threads);
        int parts = pool.Parts(n);
        var runs = new int[parts];
        var ranges = new (int Start, int Count)[parts];
        Action<int, int, int> body = (part, s, cnt) => { Interlocked.Increment(ref runs[part]); ranges[part] = (s, cnt); };
        for (int r = 1; r <= 3000; r++)
        {
            pool.Run(n, body);
            for (int p = 0; p < parts; p++)
            {
                Assert.Equal(r, Volatile.Read(ref runs[p]));
                Assert.Equal((WorkerPool.RangeStart(n, parts, p), WorkerPool.RangeStart(n, parts, p + 1) - WorkerPool.RangeStart(n, parts, p)), ranges[p]);
            }
        }
    }

    [Fact]
    public void AnExceptionInAPartReachesTheCaller()
    {
        var pool = WorkerPool.ForThreads(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(4, (part, _, _) => { if (part == 1) throw new InvalidOperationException("part 1"); }));
        Assert.Equal("part 1", e.Message);
        int sum = 0;
        pool.Run(4, (_, _, cnt) => Interlocked.Add(ref sum, cnt));   // the pool still works
        Assert.Equal(4, sum);
    }
}
