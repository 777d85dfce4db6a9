using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ConvNet.Threading;

/// <summary>
/// A tiny fork-join pool for data-parallel kernels: <c>threads − 1</c> dedicated background workers that spin and yield
/// for about 2 ms and then block, and the calling thread. One <see cref="Run"/> costs a few microseconds (no
/// <c>Parallel.For</c> wake-up, no allocation when the body delegate is cached).
/// Work is split into contiguous, ordered ranges ("parts"), and every thread — the caller included — <b>claims</b> parts
/// until none is left. A body's result depends only on its part number, never on which thread ran it, so results are
/// deterministic for a given thread count; and a worker that the OS has descheduled cannot stall the caller: the caller
/// runs the unclaimed parts itself and waits only for parts already being run.
/// </summary>
internal sealed class WorkerPool
{
    private static readonly Dictionary<int, WorkerPool> Pools = [];
    private readonly object _lock = new();
    private readonly object _runLock = new();
    private Action<int, int, int>? _body;
    private int _n, _parts, _remaining;
    private long _generation;
    private long _claim;   // (31 bits of the generation << 32) | next part to claim: one word, so a late worker can't claim a newer run's part
    private Exception? _error;
    private float[][] _scratch = [];   // per slot (0 = the caller, k = worker k): reserved by the caller for every slot before a run
    [ThreadStatic] private static int t_slot;

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
            int slot = id;
            new Thread(() => { t_slot = slot; Work(); }) { IsBackground = true, Name = $"ConvNet worker {id}/{threads}" }.Start();
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
    public void Run(int n, Action<int, int, int> body) => RunParts(n, Math.Min(Threads, n), body);

    /// <summary>
    /// Like <see cref="Run"/> with min(<paramref name="chunks"/>, n) ranges, for work that balances better in more pieces
    /// than threads. The body's result must not depend on the thread that runs a chunk (per-thread scratch only).
    /// </summary>
    public void RunChunks(int n, int chunks, Action<int, int, int> body) => RunParts(n, Threads == 1 ? 1 : Math.Min(chunks, n), body);

    /// <summary>
    /// <see cref="RunChunks(int, int, Action{int, int, int})"/> with per-thread scratch: first every thread's
    /// <see cref="Scratch"/> is made at least <paramref name="scratchFloats"/> long (it only grows), so which thread claims
    /// which chunk never decides whether a call allocates.
    /// </summary>
    public void RunChunks(int n, int chunks, Action<int, int, int> body, int scratchFloats)
    {
        lock (_runLock)
        {
            if (_scratch.Length < Threads) Array.Resize(ref _scratch, Threads);
            for (int slot = 0; slot < Threads; slot++)
                if (_scratch[slot] is null || _scratch[slot].Length < scratchFloats) _scratch[slot] = new float[scratchFloats];
            RunChunks(n, chunks, body);   // the lock is re-entrant
        }
    }

    /// <summary>The calling thread's scratch, inside a body run by <see cref="RunChunks(int, int, Action{int, int, int}, int)"/>.</summary>
    public float[] Scratch => _scratch[Threads == 1 ? 0 : t_slot];

    private void RunParts(int n, int parts, Action<int, int, int> body)
    {
        if (parts <= 1) { if (n > 0) body(0, 0, n); return; }
        lock (_runLock) RunLocked(n, parts, body);
    }

    private void RunLocked(int n, int parts, Action<int, int, int> body)
    {
        long generation;
        lock (_lock)
        {
            _body = body; _n = n; _parts = parts; _error = null;
            _remaining = parts;
            generation = ++_generation;
            Volatile.Write(ref _claim, (generation & int.MaxValue) << 32);
            Monitor.PulseAll(_lock);
        }
        ClaimAndRun(generation, body, n, parts);
        var spin = new SpinWait();
        // Only parts a worker claimed are left: spin, then yield (Sleep(0)/Yield), but never Sleep(1): that costs a millisecond.
        while (Volatile.Read(ref _remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    // Claims parts of run `generation` one at a time and runs them, until every part has been claimed.
    private void ClaimAndRun(long generation, Action<int, int, int> body, int n, int parts)
    {
        long tag = (generation & int.MaxValue) << 32;
        while (true)
        {
            long c = Volatile.Read(ref _claim);
            if ((c & ~0xffffffffL) != tag) return;        // a newer run has started: this one is complete
            int part = (int)(c & 0xffffffff);
            if (part >= parts) return;
            if (Interlocked.CompareExchange(ref _claim, c + 1, c) != c) continue;
            int s = RangeStart(n, parts, part), e = RangeStart(n, parts, part + 1);
            try { if (e > s) body(part, s, e - s); }
            catch (Exception ex) { Interlocked.CompareExchange(ref _error, ex, null); }
            Interlocked.Decrement(ref _remaining);
        }
    }

    private void Work()
    {
        long seen = 0;
        while (true)
        {
            // Spin, then yield (so the caller or another process gets the core), for about 2 ms; then block.
            var spin = new SpinWait();
            long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 500;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (Stopwatch.GetTimestamp() < deadline) spin.SpinOnce(sleep1Threshold: -1);
                else lock (_lock) { while (_generation == seen) Monitor.Wait(_lock); }
            }
            Action<int, int, int>? body; int n, parts;
            lock (_lock) { seen = _generation; body = _body; n = _n; parts = _parts; }
            if (body is not null) ClaimAndRun(seen, body, n, parts);
        }
    }
}
