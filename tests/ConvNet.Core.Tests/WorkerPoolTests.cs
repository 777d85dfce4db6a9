using ConvNet.Threading;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>The fork-join pool: every part runs exactly once on its ordered range, and errors reach the caller.</summary>
public class WorkerPoolTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(2, 7)]
    [InlineData(3, 2)]
    [InlineData(3, 10)]
    [InlineData(5, 1000)]
    public void EveryItemIsCoveredOnceByOrderedRanges(int threads, int n)
    {
        var pool = WorkerPool.ForThreads(threads);
        for (int rep = 0; rep < 200; rep++)
        {
            var hits = new int[n];
            var starts = new int[pool.Parts(n)];
            pool.Run(n, (part, s, c) =>
            {
                starts[part] = s;
                for (int i = s; i < s + c; i++) Interlocked.Increment(ref hits[i]);
            });
            Assert.All(hits, h => Assert.Equal(1, h));
            for (int p = 0; p < starts.Length; p++) Assert.Equal(WorkerPool.RangeStart(n, starts.Length, p), starts[p]);
        }
    }

    [Fact]
    public void AnExceptionInAPartReachesTheCallerAndThePoolStaysUsable()
    {
        var pool = WorkerPool.ForThreads(2);
        var e = Assert.Throws<InvalidOperationException>(() =>
            pool.Run(2, (part, _, _) => { if (part == 1) throw new InvalidOperationException("part 1 failed"); }));
        Assert.Equal("part 1 failed", e.Message);
        int sum = 0;
        pool.Run(10, (_, s, c) => Interlocked.Add(ref sum, c));
        Assert.Equal(10, sum);
    }
}
