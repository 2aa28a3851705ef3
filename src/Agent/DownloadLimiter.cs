namespace RestoreTools.Agent;

/// <summary>At most N downloads (content, extract) at once; the next one is refused at once (503), not queued.</summary>
public sealed class DownloadLimiter(int max)
{
    private int _active;

    public int Max { get; } = max;
    public int Active => Volatile.Read(ref _active);

    /// <summary>A lease to dispose when the download ends, or null when all slots are taken.</summary>
    public IDisposable? TryAcquire()
    {
        while (true)
        {
            int current = Volatile.Read(ref _active);
            if (current >= Max) return null;
            if (Interlocked.CompareExchange(ref _active, current + 1, current) == current) return new Lease(this);
        }
    }

    private sealed class Lease(DownloadLimiter owner) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Decrement(ref owner._active);
        }
    }
}
