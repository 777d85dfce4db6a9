using System.Runtime.ExceptionServices;

namespace ConvNet.Threading;

/// <summary>
/// A tiny fork-join pool for data-parallel kernels: <c>threads − 1</c> dedicated background workers that
/// spin briefly and then sleep, and the calling thread as worker 0. One <see cref="Run"/> costs a few
/// microseconds (no <c>Parallel.For</c> wake-up, no allocation when the body delegate is cached).
/// Work is split into contiguous, ordered ranges, so results are deterministic for a given thread count.
/// </summary>
internal sealed class WorkerPool
{
    private static readonly Dictionary<int, WorkerPool> Pools = [];
    private readonly object _lock = new();
    private Action<int, int, int>? _body;
    private readonly object _runLock = new();
    private int _n, _parts, _remaining;
    private long _generation;
    private Exception? _error;
    private bool _dynamic;      // the current run hands out chunks (RunChunks)
    private long _claim;        // RunChunks: (31 bits of the generation << 32) | next unclaimed chunk
    private int _chunksDone;

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
            new Thread(() => Work(worker)) { IsBackground = true, Name = $"ConvNet worker {worker}/{threads}" }.Start();
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

    /// <summary>
    /// Calls <paramref name="body"/>(chunk, start, count) for each of min(<paramref name="chunks"/>, n) contiguous ordered ranges
    /// of [0, n), each claimed by whichever thread is free. The caller runs chunks too and never waits for a worker that has not
    /// started (on a busy machine it may be descheduled), only for chunks in progress. The body's result must not depend on
    /// the thread that runs a chunk (per-thread scratch only); a body must not call Run.
    /// </summary>
    public void RunChunks(int n, int chunks, Action<int, int, int> body)
    {
        chunks = Math.Min(chunks, n);
        if (Threads == 1 || chunks <= 1) { if (n > 0) body(0, 0, n); return; }
        lock (_runLock)
        {
            long gen;
            lock (_lock)
            {
                _body = body; _n = n; _parts = chunks; _error = null; _dynamic = true; _chunksDone = 0;
                gen = ++_generation;
                Volatile.Write(ref _claim, (gen & int.MaxValue) << 32);
                Monitor.PulseAll(_lock);
            }
            Claim(body, n, chunks, gen);
            var spin = new SpinWait();
            while (Volatile.Read(ref _chunksDone) < chunks) spin.SpinOnce(sleep1Threshold: -1);
            // _body and _dynamic stay set: a worker that wakes late sees this finished run and claims nothing.
            if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
        }
    }

    // Claims and runs chunks of run `gen` until none is left (or a later run started).
    private void Claim(Action<int, int, int> body, int n, int chunks, long gen)
    {
        while (true)
        {
            long v = Volatile.Read(ref _claim);
            if (v >> 32 != (gen & int.MaxValue) || (int)v >= chunks) return;
            if (Interlocked.CompareExchange(ref _claim, v + 1, v) != v) continue;
            Execute(body, n, chunks, (int)v);
            Interlocked.Increment(ref _chunksDone);
        }
    }

    private void RunLocked(int n, int parts, Action<int, int, int> body)
    {
        lock (_lock)
        {
            _body = body; _n = n; _parts = parts; _error = null; _dynamic = false;
            _remaining = parts - 1;
            _generation++;
            Monitor.PulseAll(_lock);
        }
        Execute(body, n, parts, 0);
        var spin = new SpinWait();
        // Spin, then yield (Sleep(0)/Yield lets a descheduled worker run on a busy machine), but never Sleep(1): that costs a millisecond.
        while (Volatile.Read(ref _remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    private void Execute(Action<int, int, int> body, int n, int parts, int part)
    {
        int s = RangeStart(n, parts, part), e = RangeStart(n, parts, part + 1);
        try { if (e > s) body(part, s, e - s); }
        catch (Exception ex) { Interlocked.CompareExchange(ref _error, ex, null); }
    }

    private void Work(int id)
    {
        long seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (++spins < 2000) Thread.SpinWait(20);
                else lock (_lock) { while (_generation == seen) Monitor.Wait(_lock); }
            }
            Action<int, int, int> body; int n, parts; bool dynamic;
            lock (_lock) { seen = _generation; body = _body!; n = _n; parts = _parts; dynamic = _dynamic; }
            if (dynamic) Claim(body, n, parts, seen);
            else if (id < parts)
            {
                Execute(body, n, parts, id);
                Interlocked.Decrement(ref _remaining);
            }
        }
    }
}
