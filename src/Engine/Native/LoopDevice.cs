namespace RestoreTools.Engine.Native;

/// <summary>
/// A loop device this process bound with LO_FLAGS_AUTOCLEAR, held open: the open descriptor is
/// what keeps the binding alive, so it must live as long as the attachment. Closing it (Dispose,
/// or the process dying) frees the device once nothing mounted from it remains.
/// </summary>
public sealed class LoopDevice : IDisposable
{
    private int _fd;

    internal LoopDevice(int fd, string path, int number)
    {
        _fd = fd;
        Path = path;
        Number = number;
    }

    /// <summary>The node it was opened through, e.g. /dev/loop3.</summary>
    public string Path { get; }

    public int Number { get; }

    public string KernelName => $"loop{Number}";

    /// <summary>Clears the binding (LOOP_CLR_FD) and closes: freed now, or when a last other opener closes.</summary>
    public void Detach()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        try { LoopDevices.Clear(fd, Path); }
        finally { Sys.Close(fd); }
    }

    /// <summary>Closes without clearing first; autoclear frees the device at its last close.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Sys.Close(fd);
    }
}
