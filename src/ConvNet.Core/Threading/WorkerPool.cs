using System.Runtime.ExceptionServices;

namespace ConvNet.Threading;

/// <summary>
/// A tiny fork-join pool for data-parallel kernels: <c>threads − 1</c> dedicated background workers that
/// spin and yield briefly and then block (never <c>Sleep(1)</c>), and the calling thread. One <see cref="Run"/> costs a few
/// microseconds (no <c>Parallel.For</c> wake-up, no allocation when the body delegate is cached).
/// Work is split into contiguous, ordered ranges (parts), so results are deterministic for a given thread count; each part
/// is claimed by whichever thread is free first, so a worker that is not scheduled does not hold the caller up.
/// </summary>
internal sealed class WorkerPool
{
    private static readonly Dictionary<int, WorkerPool> Pools = [];
    private readonly object _lock = new();
    private Action<int, int, int>? _body;
    private readonly object _runLock = new();
    private int _n, _parts, _done;
    private long _generation;
    private long _claim;   // (generation tag << 32) | next unclaimed part of the current Run
    private Exception? _error;

    /// <summary>The shared pool with <paramref name="threads"/> threads (created once per count).</summary>
    public static WorkerPool ForThreads(int threads)
    {
        lock (Pools)
        {
            if (!Pools.TryGetValue(threads, out var pool)) Pools[threads] = pool = new WorkerPool(threads);
            return pool;
        }
    }

    private WorkerPool(int threads)
    {
        Threads = threads;
        for (int id = 1; id < threads; id++)
        {
            int worker = id;
            new Thread(() => Work()) { IsBackground = true, Name = $"ConvNet worker {worker}/{threads}" }.Start();
        }
    }

    /// <summary>Number of threads including the caller.</summary>
    public int Threads { get; }

    /// <summary>The start of range <paramref name="part"/> when [0, n) is split into <paramref name="parts"/> ordered ranges.</summary>
    public static int RangeStart(int n, int parts, int part) => (int)((long)n * part / parts);

    /// <summary>Number of ranges <see cref="Run"/> uses for <paramref name="n"/> items.</summary>
    public int Parts(int n) => Math.Max(1, Math.Min(Threads, n));

    /// <summary>
    /// Calls <paramref name="body"/>(part, start, count) for each of min(Threads, n) contiguous ranges of [0, n)
    /// in parallel and returns when all are done. Callers on other threads wait their turn; a body must not call Run.
    /// </summary>
    public void Run(int n, Action<int, int, int> body)
    {
        int parts = Math.Min(Threads, n);
        if (parts <= 1) { if (n > 0) body(0, 0, n); return; }
        lock (_runLock) RunLocked(n, parts, body);
    }

    private void RunLocked(int n, int parts, Action<int, int, int> body)
    {
        long generation;
        lock (_lock)
        {
            _body = body; _n = n; _parts = parts; _error = null; _done = 0;
            generation = ++_generation;
            Volatile.Write(ref _claim, Tag(generation));
            Monitor.PulseAll(_lock);
        }
        RunParts(generation, body, n, parts);
        var spin = new SpinWait();
        // Spin, then yield (Sleep(0)/Yield lets a descheduled worker run on a busy machine), but never Sleep(1): that costs a millisecond.
        while (Volatile.Read(ref _done) < parts) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    private static long Tag(long generation) => (long)((ulong)(uint)generation << 32);

    // Claims and runs parts of this generation's Run until none is left. Any thread may run any part (the caller takes the
    // parts of a worker that has not woken up yet), so a descheduled worker delays a Run only once it has started a part.
    // Results depend on the part, never on the thread that runs it.
    private void RunParts(long generation, Action<int, int, int> body, int n, int parts)
    {
        long tag = Tag(generation);
        while (true)
        {
            long c = Volatile.Read(ref _claim);
            int part = (int)(c & 0xFFFFFFFFL);
            if ((c & ~0xFFFFFFFFL) != tag || part >= parts) return;
            if (Interlocked.CompareExchange(ref _claim, c + 1, c) != c) continue;
            Execute(body, n, parts, part);
            Interlocked.Increment(ref _done);
        }
    }

    private void Execute(Action<int, int, int> body, int n, int parts, int part)
    {
        int s = RangeStart(n, parts, part), e = RangeStart(n, parts, part + 1);
        try { if (e > s) body(part, s, e - s); }
        catch (Exception ex) { Interlocked.CompareExchange(ref _error, ex, null); }
    }

    private void Work()
    {
        long seen = 0;
        while (true)
        {
            // Spin, then yield (so a descheduled caller or another process gets the core), for up to ~2 ms; then block.
            var spin = new SpinWait();
            long deadline = 0;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (deadline == 0) deadline = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 500;
                if (System.Diagnostics.Stopwatch.GetTimestamp() < deadline) spin.SpinOnce(sleep1Threshold: -1);
                else lock (_lock) { while (_generation == seen) Monitor.Wait(_lock); }
            }
            Action<int, int, int>? body; int n, parts;
            lock (_lock) { seen = _generation; body = _body; n = _n; parts = _parts; }
            if (body is not null) RunParts(seen, body, n, parts);
        }
    }
}
