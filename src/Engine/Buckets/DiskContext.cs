using FileSystemInfo = RestoreTools.Engine.FileSystems.FileSystemInfo;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Engine.Buckets;

/// <summary>A disk and what has been read from it, read once: its partition table and its buckets.</summary>
internal sealed class DiskContext(DiskDevice device, EngineOptions options, DeviceNodeResolver nodes, Func<IReadOnlyList<DiskContext>>? peers = null)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, object> _cache = new(StringComparer.Ordinal);

    // Device-mapper devices made for this disk's buckets (LVM in the restore VM), by plan key: each
    // keeps its name (restoretools-PID-RANDOM-N, so that what a killed process left can be told
    // apart) across maps, and counts the plans using it: a thin pool serves all its volumes.
    private readonly Dictionary<string, (string Name, string Node, int Users)> _mapped = new(StringComparer.Ordinal);
    private readonly List<string> _mapOrder = [];
    private readonly string _dmPrefix = $"restoretools-{Environment.ProcessId}-{Native.SecureRandom.Hex(6)}";

    /// <summary>Every disk the engine sees now, this one included: a VG's PVs may lie on several.</summary>
    public IReadOnlyList<DiskContext> Peers() => peers?.Invoke() ?? [this];

    /// <summary>A value computed once per disk (what a bucket kind read from it), by key.</summary>
    public T Cached<T>(string key, Func<T> compute) where T : class
    {
        lock (_gate) if (_cache.TryGetValue(key, out var v)) return (T)v;
        var value = compute();
        lock (_gate) return (T)(_cache.TryAdd(key, value) ? value : _cache[key]);
    }

    /// <summary>The node a plan's top device has whenever it is mapped.</summary>
    public string MappedNode(Lvm.DmPlan plan)
    {
        lock (_gate)
        {
            foreach (var p in plan.InOrder()) NameOf(p.Key); // the ones it needs get the smaller numbers
            return Path.Combine(Options.DevRoot, "mapper", NameOf(plan.Key));
        }
    }

    private string NameOf(string key)
    {
        int index = _mapOrder.IndexOf(key);
        if (index < 0) { _mapOrder.Add(key); index = _mapOrder.Count - 1; }
        return $"{_dmPrefix}-{index}";
    }

    /// <summary>
    /// Makes the device-mapper devices of a plan (read-only tables) that are not there yet, counts
    /// one more user of each, and returns the node of the top one. Undone by <see cref="Unmap"/>;
    /// if a step fails, what this call made is removed again.
    /// </summary>
    public string Map(Lvm.DmPlan plan)
    {
        lock (_gate)
        {
            var done = new List<Lvm.DmPlan>();
            try
            {
                foreach (var p in plan.InOrder())
                {
                    if (_mapped.TryGetValue(p.Key, out var m) && m.Users > 0) { _mapped[p.Key] = m with { Users = m.Users + 1 }; done.Add(p); continue; }
                    string name = NameOf(p.Key);
                    var table = p.Targets.Select(t => new Native.DmTarget(t.Start, t.Length, t.Type, t.Render(NodeNumber))).ToList();
                    var (major, minor) = Native.DeviceMapper.Create(Options.DevRoot, name, "RESTORETOOLS-" + name, table, p.ReadOnly);
                    string node = Path.Combine(Options.DevRoot, "mapper", name);
                    Native.DeviceNodes.CreateBlockNode(node, major, minor);
                    _mapped[p.Key] = (name, node, 1);
                    done.Add(p);
                }
                return _mapped[plan.Key].Node;
            }
            catch
            {
                for (int i = done.Count - 1; i >= 0; i--) Drop(done[i].Key);
                throw;
            }
        }

        string NodeNumber(Lvm.DmPlan dep)
        {
            string node = _mapped[dep.Key].Node;
            var n = Native.DeviceNodes.GetDeviceNumber(node) ?? throw new IOException($"'{node}' is not a block device");
            return $"{n.Major}:{n.Minor}";
        }
    }

    /// <summary>One user less for each device of the plan; a device nobody uses is removed (after its bucket is unmounted).</summary>
    public void Unmap(Lvm.DmPlan plan)
    {
        lock (_gate)
            foreach (var p in plan.InOrder().Reverse()) Drop(p.Key);
    }

    private void Drop(string key)
    {
        if (!_mapped.TryGetValue(key, out var m) || m.Users == 0) return;
        if (m.Users > 1) { _mapped[key] = m with { Users = m.Users - 1 }; return; }
        try
        {
            if (!Native.DeviceMapper.Remove(Options.DevRoot, m.Name))
            {
                Options.Warning?.Invoke($"'{m.Node}' ({key}) is still in use: left as it is");
                return;
            }
            _mapped[key] = m with { Users = 0 };
            File.Delete(m.Node);
        }
        catch (IOException ex) { Options.Warning?.Invoke($"removing '{m.Node}': {ex.Message}"); }
    }

    /// <summary>"MAJ:MIN" of this disk's block device, which a device-mapper table names it by; null for an image file.</summary>
    public string? DeviceNumber => Native.DeviceNodes.GetDeviceNumber(Device.DevicePath) is { } n ? $"{n.Major}:{n.Minor}" : null;
    private (PartitionTable? Table, string? Error)? _table;
    private IReadOnlyList<BucketSource>? _buckets;
    private string? _peersSeen;

    // Loop devices this disk's buckets were exposed through (LVM logical volumes), released with it.
    private readonly List<(Native.LoopDevice Loop, long Offset, long Length)> _loops = [];

    public DiskDevice Device { get; } = device;

    /// <summary>
    /// A read-only device for a byte range of the disk (a loop over the disk's own device at that
    /// offset), held until Release. Bound with autoclear: if this process dies, the kernel frees it
    /// once nothing mounted from it is left.
    /// </summary>
    public string Expose(long offset, long length)
    {
        lock (_gate)
        {
            // Listed again (a VG completed by another disk): the range keeps its device.
            foreach (var l in _loops) if (l.Offset == offset && l.Length == length) return l.Loop.Path;
        }
        using var handle = File.OpenHandle(Device.DevicePath, FileMode.Open, FileAccess.Read);
        string marker = "restoretools:" + Native.SecureRandom.Hex(12);
        var loop = Native.LoopDevices.Attach(handle, marker, Options.DevRoot, offset, length);
        lock (_gate) _loops.Add((loop, offset, length));
        return loop.Path;
    }

    /// <summary>Frees what Expose made; the caller unmounted the buckets on them.</summary>
    public void Release()
    {
        List<Native.LoopDevice> loops;
        lock (_gate)
        {
            loops = [.. _loops.Select(l => l.Loop)]; _loops.Clear();
            // Top devices first: each is built only on devices made before it.
            foreach (var key in Enumerable.Reverse(_mapOrder).ToList())
                if (_mapped.TryGetValue(key, out var m) && m.Users > 0) { _mapped[key] = m with { Users = 1 }; Drop(key); }
        }
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
        IReadOnlyList<BucketSource>? cached;
        lock (_gate) cached = _buckets;
        if (cached is not null)
        {
            if (!cached.Any(b => b.AwaitsDisk)) return cached;
            // A VG was incomplete: if a disk came or went since, the kinds waiting for one read again.
            string now = PeerNames();
            lock (_gate) if (now == _peersSeen) return cached;
            var list = new List<BucketSource>();
            foreach (var kind in kinds)
                list.AddRange(cached.Any(b => b.Type == kind.Type && b.AwaitsDisk) ? kind.Enumerate(this) : cached.Where(b => b.Type == kind.Type));
            lock (_gate) { _buckets = list; _peersSeen = now; return list; }
        }
        string seen = PeerNames();
        var fresh = new List<BucketSource>();
        foreach (var kind in kinds) fresh.AddRange(kind.Enumerate(this));
        lock (_gate)
        {
            if (_buckets is null) { _buckets = fresh; _peersSeen = seen; }
            return _buckets;
        }
    }

    private string PeerNames() => string.Join('\n', Peers().Select(p => p.Device.KernelName).Order(StringComparer.Ordinal));

    /// <summary>Probes a device this disk's buckets made (an LV); a damaged superblock gives null.</summary>
    public FileSystemInfo? ProbeDevice(string devicePath, long size)
    {
        try
        {
            using var reader = new FileBlockReader(devicePath, 512, size);
            return FileSystemProber.Default.Probe(reader);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Options.Warning?.Invoke($"disk '{Device.Name}': reading '{devicePath}' failed: {ex.Message}");
            return null;
        }
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
