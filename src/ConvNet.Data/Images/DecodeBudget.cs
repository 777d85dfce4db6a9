namespace ConvNet.Data;

/// <summary>
/// A memory budget shared by the images decoded in parallel: <see cref="Acquire"/> waits while the images in
/// flight would pass the capacity. An image larger than the whole budget is decoded alone.
/// </summary>
internal sealed class DecodeBudget(long capacity)
{
    private readonly object _gate = new();
    private long _used;

    /// <summary>A budget that never waits (single-image loads).</summary>
    public static DecodeBudget Unbounded { get; } = new(long.MaxValue);

    /// <summary>Bytes reserved right now (for tests).</summary>
    public long Used { get { lock (_gate) return _used; } }

    /// <summary>Reserves <paramref name="bytes"/> until the returned lease is disposed.</summary>
    public Lease Acquire(long bytes)
    {
        lock (_gate)
        {
            while (_used > 0 && _used + bytes > capacity) Monitor.Wait(_gate);
            _used += bytes;
        }
        return new Lease(this, bytes);
    }

    private void Release(long bytes)
    {
        lock (_gate)
        {
            _used -= bytes;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Gives the reserved bytes back on dispose.</summary>
    public readonly struct Lease(DecodeBudget owner, long bytes) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => owner.Release(bytes);
    }
}
