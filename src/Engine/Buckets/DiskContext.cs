using FileSystemInfo = RestoreTools.Engine.FileSystems.FileSystemInfo;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Engine.Buckets;

/// <summary>A disk and what has been read from it, read once: its partition table and its buckets.</summary>
internal sealed class DiskContext(DiskDevice device, EngineOptions options, DeviceNodeResolver nodes)
{
    private readonly Lock _gate = new();
    private (PartitionTable? Table, string? Error)? _table;
    private IReadOnlyList<BucketSource>? _buckets;

    // Loop devices this disk's buckets were exposed through (LVM logical volumes), released with it.
    private readonly List<Native.LoopDevice> _loops = [];

    public DiskDevice Device { get; } = device;

    /// <summary>
    /// A read-only device for a byte range of the disk (a loop over the disk's own device at that
    /// offset), held until Release. Bound with autoclear: if this process dies, the kernel frees it
    /// once nothing mounted from it is left.
    /// </summary>
    public string Expose(long offset, long length)
    {
        using var handle = File.OpenHandle(Device.DevicePath, FileMode.Open, FileAccess.Read);
        string marker = "restoretools:" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var loop = Native.LoopDevices.Attach(handle, marker, Options.DevRoot, offset, length);
        lock (_gate) _loops.Add(loop);
        return loop.Path;
    }

    /// <summary>Frees what Expose made; the caller unmounted the buckets on them.</summary>
    public void Release()
    {
        List<Native.LoopDevice> loops;
        lock (_gate) { loops = [.. _loops]; _loops.Clear(); }
        foreach (var loop in loops)
        {
            try { loop.Detach(); } catch (Native.NativeException ex) { Options.Warning?.Invoke($"releasing '{loop.Path}': {ex.Message}"); }
            loop.Dispose();
        }
    }
    public EngineOptions Options { get; } = options;
    public DeviceNodeResolver Nodes { get; } = nodes;

    public FileBlockReader OpenReader()
    {
        int sector = 512;
        try { sector = Native.BlockDeviceIoctl.GetSectorSize(Device.DevicePath); }
        catch (IOException) { /* an image file, not a device: GPT probing tries 4096 itself */ }
        try { return new FileBlockReader(Device.DevicePath, sector, Device.Size > 0 ? Device.Size : null); }
        catch (UnauthorizedAccessException ex) { throw new IOException($"cannot open '{Device.DevicePath}': {ex.Message}", ex); }
    }

    /// <summary>The partition table read in user space, or the reason it could not be read.</summary>
    public (PartitionTable? Table, string? Error) Table
    {
        get
        {
            lock (_gate)
            {
                if (_table is null)
                {
                    try
                    {
                        using var reader = OpenReader();
                        var table = PartitionTableReader.Read(reader);
                        foreach (var w in table?.Warnings ?? [])
                            Options.Warning?.Invoke($"disk '{Device.Name}': {w}");
                        _table = (table, null);
                    }
                    catch (Exception ex) when (ex is InvalidDataException or IOException)
                    {
                        Options.Warning?.Invoke($"disk '{Device.Name}': partition table unreadable: {ex.Message}");
                        _table = (null, ex.Message);
                    }
                }
                return _table.Value;
            }
        }
    }

    public IReadOnlyList<BucketSource> Buckets(IReadOnlyList<IBucketKind> kinds)
    {
        lock (_gate)
        {
            if (_buckets is not null) return _buckets;
        }
        var list = new List<BucketSource>();
        foreach (var kind in kinds) list.AddRange(kind.Enumerate(this));
        lock (_gate) return _buckets ??= list;
    }

    /// <summary>Probes a window of the disk; a damaged superblock gives null, never an exception.</summary>
    public FileSystemInfo? Probe(long offset, long length)
    {
        try
        {
            using var reader = OpenReader();
            return FileSystemProber.Default.Probe(new SliceBlockReader(reader, offset, length));
        }
        catch (IOException ex)
        {
            Options.Warning?.Invoke($"disk '{Device.Name}': reading at {offset} failed: {ex.Message}");
            return null;
        }
    }
}
