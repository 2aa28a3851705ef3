using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Buckets;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Mounting;
using RestoreTools.Engine.Native;
using RestoreTools.Engine.Paths;
using RestoreTools.Engine.State;

namespace RestoreTools.Engine;

/// <summary>The disk engine on this machine: scan, probe, mount and resolve.</summary>
public sealed class RestoreEngine : IRestoreEngine
{
    private readonly EngineOptions _options;
    private readonly DeviceNodeResolver _nodes;
    private readonly VirtioDiskScanner _virtio;
    private readonly ImageAttachments _images;
    private readonly Mounter _mounter;
    private readonly OwnerRecord _record;
    private readonly Dictionary<string, DiskContext> _contexts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _disposed;

    public RestoreEngine(EngineOptions? options = null)
    {
        _options = options ?? new EngineOptions();
        _nodes = new DeviceNodeResolver(_options);
        _virtio = new VirtioDiskScanner(_options, _nodes);
        // What an earlier, killed process on this state folder left goes first; then this one's own record.
        var stale = StaleStateCleaner.Clean(_options);
        if (stale.Unmounted + stale.LoopsCleared + stale.MappedRemoved > 0)
            _options.Warning?.Invoke($"cleaned up after an earlier process: {stale.Unmounted} mounts, {stale.LoopsCleared} loop devices"
                + (stale.MappedRemoved > 0 ? $", {stale.MappedRemoved} device-mapper devices" : ""));
        int exports = FuseImageExport.CleanStale(Path.Combine(Path.GetDirectoryName(_options.MountRoot)!, "fuse"), _options.Warning);
        if (exports > 0) _options.Warning?.Invoke($"stopped {exports} image exports an earlier process left");
        _record = new OwnerRecord(_options);
        _images = new ImageAttachments(_options, _nodes, _record);
        _mounter = new Mounter(_options.MountRoot, _record, File.Exists(EngineOptions.RestoreVmMarker), _options.Warning);
    }

    public IReadOnlyList<RestoreDisk> GetDisks() => Contexts().Select(ToDisk).ToList();

    public RestoreDisk AttachImage(string imagePath, string? name = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var device = _images.Attach(imagePath, name, n => _virtio.Scan().Any(d => d.Name == n));
        return ToDisk(Context(device));
    }

    public void DetachImage(string diskName)
    {
        var device = _images.Get(diskName)
            ?? throw new RestoreException(RestoreErrorCode.DiskNotFound, $"no attached image named '{diskName}'", diskName);
        foreach (var m in _mounter.All.Where(m => m.BucketPath.StartsWith("/" + diskName + "/", StringComparison.Ordinal)))
            _mounter.Unmount(m.BucketPath);
        // Loops over the disk (its LVs) go before the disk's own loop.
        DiskContext? ctx;
        lock (_gate) _contexts.TryGetValue(device.KernelName, out ctx);
        ctx?.Release();
        _images.Detach(diskName);
        lock (_gate) _contexts.Remove(device.KernelName);
    }

    public IReadOnlyList<RestoreBucket> GetBuckets(string? diskName = null)
    {
        var contexts = diskName is null ? Contexts() : [FindDisk(diskName)];
        return contexts.SelectMany(c => c.Buckets(BucketCatalog.Kinds).Select(b => ToBucket(c, b))).ToList();
    }

    public RestoreBucket GetBucket(string bucketPath)
    {
        var (ctx, source, rest) = Locate(RestorePath.Parse(bucketPath));
        if (source is null || rest.Count > 0)
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{bucketPath}' does not name a bucket (/disk/type/component)", bucketPath);
        return ToBucket(ctx, source);
    }

    public RestoreBucket Mount(string bucketPath)
    {
        var (ctx, source, rest) = Locate(RestorePath.Parse(bucketPath));
        if (source is null || rest.Count > 0)
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{bucketPath}' does not name a bucket (/disk/type/component)", bucketPath);
        return MountBucket(ctx, source);
    }

    public RestoreBucket Unmount(string bucketPath)
    {
        var (ctx, source, rest) = Locate(RestorePath.Parse(bucketPath));
        if (source is null || rest.Count > 0)
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{bucketPath}' does not name a bucket (/disk/type/component)", bucketPath);
        var bucket = ToBucket(ctx, source);
        bool wasMounted = bucket.IsMounted;
        _mounter.Unmount(bucket.Path);
        if (wasMounted && source.Plan is not null) ctx.Unmap(source.Plan);
        return bucket with { IsMounted = false, MountPoint = null };
    }

    public ResolvedPath Resolve(string restorePath) => ResolveCore(restorePath, followFinal: true);

    private ResolvedPath ResolveCore(string restorePath, bool followFinal)
    {
        var path = RestorePath.Parse(restorePath);
        string display = path.ToString();
        if (path.Segments.Count == 0)
        {
            var disks = GetDisks().Select(d => new RestorePathEntry(d.Name, "/" + d.Name, ResolvedKind.Disk, d.Size, d.PartitionTable)).ToList();
            return new ResolvedPath("/", ResolvedKind.Root, null, null, null, null, null, null, disks);
        }
        path.RequireNames(2);
        var ctx = FindDisk(path.Segments[0]);
        string disk = ctx.Device.Name;
        var buckets = ctx.Buckets(BucketCatalog.Kinds);
        if (path.Segments.Count == 1)
        {
            // A kind whose buckets take no component (raw) is itself the bucket: list it as one.
            var types = BucketCatalog.Kinds.Where(k => buckets.Any(b => b.Type == k.Type))
                .Select(k => k.ComponentDepth == 0 && buckets.First(b => b.Type == k.Type) is var b0
                    ? new RestorePathEntry(k.Type, RestorePath.Join(disk, k.Type), ResolvedKind.Bucket, b0.Size, b0.FileSystem?.Type)
                    : new RestorePathEntry(k.Type, RestorePath.Join(disk, k.Type), ResolvedKind.BucketType, null)).ToList();
            return new ResolvedPath(RestorePath.Join(disk), ResolvedKind.Disk, disk, null, null, null, null, null, types);
        }

        var kind = KindOf(ctx, path.Segments[1], display);
        var ofKind = buckets.Where(b => b.Type == kind.Type).ToList();
        path.RequireNames(2 + kind.ComponentDepth);
        if (path.Segments.Count < 2 + kind.ComponentDepth)
        {
            // Partial component path: list the components one level down (for lvm, VGs then LVs).
            var prefix = path.Segments.Skip(2).ToList();
            var children = ofKind
                .Select(b => (b, parts: b.Component.Split('/')))
                .Where(x => x.parts.Take(prefix.Count).SequenceEqual(prefix))
                .GroupBy(x => x.parts[prefix.Count])
                .OrderBy(g => g.Key, ComponentOrder.Instance)
                .Select(g => prefix.Count + 1 == kind.ComponentDepth
                    ? new RestorePathEntry(g.Key, RestorePath.Join([disk, kind.Type, .. prefix, g.Key]), ResolvedKind.Bucket, g.First().b.Size,
                        g.First().b is var one && one.VolumeType is { } vt ? $"{one.FileSystem?.Type ?? "?"} ({vt})" : one.FileSystem?.Type)
                    // A level above the buckets (an LVM volume group): a group of them, as a bucket type is.
                    : new RestorePathEntry(g.Key, RestorePath.Join([disk, kind.Type, .. prefix, g.Key]), ResolvedKind.BucketType, null, $"{g.Count()} {kind.Type} buckets"))
                .ToList();
            if (prefix.Count > 0 && children.Count == 0)
                throw ComponentNotFound(display, string.Join('/', prefix), disk, kind.Type);
            return new ResolvedPath(RestorePath.Join([disk, kind.Type, .. prefix]), ResolvedKind.BucketType, disk, kind.Type,
                prefix.Count > 0 ? string.Join('/', prefix) : null, null, null, null, children);
        }

        var (_, source, rest) = Locate(path);
        var bucket = MountBucket(ctx, source!);
        string local, inner;
        try { (local, inner) = ConfinedResolver.Resolve(bucket.MountPoint!, rest, followFinal, display); }
        catch (NativeException ex) { throw LocalItems.Failed(display, ex); }
        var resolvedKind = rest.Count == 0 ? ResolvedKind.Bucket : ResolvedKind.Item;
        return new ResolvedPath(display, resolvedKind, disk, kind.Type, source!.Component, inner, local, bucket, []);
    }

    public RestoreItem GetItem(string restorePath)
    {
        var r = ResolveCore(restorePath, followFinal: false);
        if (r.LocalPath is null)
        {
            string name = r.Kind == ResolvedKind.Root ? "/" : r.Path[(r.Path.LastIndexOf('/') + 1)..];
            var type = r.Kind switch { ResolvedKind.Root or ResolvedKind.Disk => ItemType.Disk, _ => ItemType.BucketType };
            long size = r.Kind == ResolvedKind.Disk ? GetDisks().First(d => d.Name == r.Disk).Size : 0;
            return new RestoreItem(name, r.Path, type, size, null, 0x16D /* 0555 */, null, null, null);
        }
        return LocalItems.Describe(r.LocalPath, ItemName(r), ItemPath(r));
    }

    public IEnumerable<RestoreItem> List(string restorePath, CancellationToken cancellationToken = default)
    {
        var r = Resolve(restorePath);
        if (r.LocalPath is null)
            return r.Children.Select(c => new RestoreItem(c.Name, c.Path, c.Kind switch
            {
                ResolvedKind.Disk => ItemType.Disk,
                ResolvedKind.BucketType => ItemType.BucketType,
                _ => ItemType.Bucket,
            }, c.Size ?? 0, null, 0x16D, null, null, null)).ToList();
        var self = LocalItems.Describe(r.LocalPath, ItemName(r), ItemPath(r));
        if (self.Type != ItemType.Directory) return [self]; // as ls and Get-ChildItem do for a file
        // Streamed in the directory's own order (an agent lists 100k entries in constant memory);
        // Get-RestoreChildItem sorts a folder's entries by name for the user.
        return LocalItems.List(r.LocalPath, ItemPath(r), cancellationToken);
    }

    public Stream OpenRead(string restorePath, long offset = 0, long? length = null)
    {
        var r = Resolve(restorePath);
        var item = r.LocalPath is null ? null : LocalItems.Describe(r.LocalPath, ItemName(r), ItemPath(r));
        // Only regular files: a FIFO would block, and device nodes are refused by nodev anyway.
        if (item is null || item.Type != ItemType.File)
            throw new RestoreException(RestoreErrorCode.NotAFile, $"'{r.Path}' is not a file", restorePath);
        if (offset < 0 || length < 0)
            throw new RestoreException(RestoreErrorCode.InvalidPath, "offset and length must not be negative", restorePath);
        Stream stream;
        try { stream = Native.Files.OpenRead(r.LocalPath!, item.Size); }
        catch (NativeException ex) { throw LocalItems.Failed(r.Path, ex); }
        try
        {
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            return length is null ? stream : new BoundedStream(stream, length.Value);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public ExportResult Export(string restorePath, Stream output, ExportOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var r = Resolve(restorePath);
        if (r.LocalPath is null)
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{r.Path}' is not inside a bucket: export takes /disk/type/component[/path]", restorePath);
        try { return Exporter.Export(r.LocalPath, ArchiveRootName(r), output, options, progress, cancellationToken, r.Path); }
        catch (NativeException ex) { throw LocalItems.Failed(r.Path, ex); }
    }

    public ExportResult Export(IReadOnlyList<string> restorePaths, Stream output, ExportOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restorePaths);
        if (restorePaths.Count == 1) return Export(restorePaths[0], output, options, progress, cancellationToken);
        ExportRoots.CheckCount(restorePaths.Count, options.Format);
        var roots = new List<ExportRoot>(restorePaths.Count);
        foreach (var path in restorePaths)
        {
            var r = Resolve(path);
            if (r.LocalPath is null)
                throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{r.Path}' is not inside a bucket: export takes /disk/type/component[/path]", path);
            // A bucket's root goes under its last path segment (the partition number, the LV's name).
            string name = ItemName(r);
            roots.Add(new ExportRoot(r.LocalPath, name[(name.LastIndexOf('/') + 1)..], ItemPath(r)));
        }
        ExportRoots.CheckNames(roots.Select(r => (r.RootName, r.RestorePath)));
        try { return Exporter.Export(roots, output, options, progress, cancellationToken); }
        catch (NativeException ex) { throw LocalItems.Failed(roots[0].RestorePath, ex); }
    }

    public ExportResult Copy(string restorePath, string destination, CopyOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var r = Resolve(restorePath);
        if (r.LocalPath is null)
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{r.Path}' is not inside a bucket: copy takes /disk/type/component[/path]", restorePath);
        try { return Exporter.Copy(r.LocalPath, ArchiveRootName(r), destination, options, progress, cancellationToken); }
        catch (NativeException ex) { throw LocalItems.Failed(r.Path, ex); }
    }

    /// <summary>The canonical restore path of a resolved item: its bucket's path plus the path inside.</summary>
    private static string ItemPath(ResolvedPath r) =>
        r.RelativePath is null or "/" ? r.Bucket!.Path : r.Bucket!.Path + r.RelativePath;

    /// <summary>The item's own name in the engine's form (NameCodec: its bytes exactly), from the local path.</summary>
    private static string ItemName(ResolvedPath r) =>
        r.RelativePath is null or "/" ? (r.Component is { Length: > 0 } c ? c : r.BucketType!) : Path.GetFileName(r.LocalPath!);

    /// <summary>An archive of a bucket's root holds its entries at the top; of a folder, under the folder's name.</summary>
    private static string ArchiveRootName(ResolvedPath r) => r.RelativePath is null or "/" ? "" : ItemName(r);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var errors = new List<Exception>();
        foreach (var m in _mounter.All)
        {
            try { _mounter.Unmount(m.BucketPath); } catch (Exception ex) { errors.Add(ex); }
        }
        List<DiskContext> contexts;
        lock (_gate) contexts = [.. _contexts.Values];
        foreach (var ctx in contexts) ctx.Release();
        foreach (var image in _images.List())
        {
            try { _images.Detach(image.Name); } catch (Exception ex) { errors.Add(ex); }
        }
        foreach (var e in errors) _options.Warning?.Invoke(e.Message);
        _record.Dispose();
    }

    private RestoreBucket MountBucket(DiskContext ctx, BucketSource source)
    {
        var bucket = ToBucket(ctx, source);
        if (bucket.IsMounted) return bucket;
        if (source.Plan is null || bucket.Device is null || bucket.IsContainer || bucket.Error is not null)
            return MountOn(bucket, source.FileSystem);
        // An LV in the restore VM: its device-mapper devices exist while it is mounted.
        try { ctx.Map(source.Plan); }
        catch (IOException ex)
        {
            throw new RestoreException(RestoreErrorCode.MountFailed, $"mounting '{bucket.Path}' failed: device-mapper refused it: {ex.Message}", bucket.Path);
        }
        try { return MountOn(bucket, source.FileSystem); }
        catch { ctx.Unmap(source.Plan); throw; }
    }

    private RestoreBucket MountOn(RestoreBucket bucket, FileSystems.FileSystemInfo? probed)
    {
        // A bucket with no signature is still tried with every type the kernel has; a container never is.
        if (bucket.Device is null || bucket.IsContainer || (bucket.FileSystem is not null && bucket.Error is not null))
            throw new RestoreException(RestoreErrorCode.MountFailed, $"mounting '{bucket.Path}' failed: {bucket.Error ?? "it has no device"}", bucket.Path);
        string mountPoint = Path.Combine(_options.MountRoot, SafeSegment(bucket.Disk), bucket.Type,
            bucket.Component.Length == 0 ? "_" : bucket.Component);
        var record = _mounter.Mount(bucket.Path, bucket.Device, probed, mountPoint);
        foreach (var w in bucket.Warnings) _options.Warning?.Invoke($"'{bucket.Path}': {w}");
        return bucket with { IsMounted = true, MountPoint = record.MountPoint, JournalReplayed = record.Replay, DefaultSubvolume = record.DefaultSubvolume ?? bucket.DefaultSubvolume };
    }

    /// <summary>Finds the disk, kind and bucket a full path names, and the rest of the path inside it.</summary>
    private (DiskContext Ctx, BucketSource? Source, IReadOnlyList<string> Inner) Locate(RestorePath path)
    {
        string display = path.ToString();
        if (path.Segments.Count < 2)
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{display}' does not name a bucket (/disk/type/component)", display);
        path.RequireNames(2);
        var ctx = FindDisk(path.Segments[0]);
        var kind = KindOf(ctx, path.Segments[1], display);
        path.RequireNames(2 + kind.ComponentDepth);
        if (path.Segments.Count < 2 + kind.ComponentDepth)
            return (ctx, null, []);
        string component = string.Join('/', path.Segments.Skip(2).Take(kind.ComponentDepth));
        var source = ctx.Buckets(BucketCatalog.Kinds).FirstOrDefault(b => b.Type == kind.Type && b.Component == component)
            ?? throw ComponentNotFound(display, component, ctx.Device.Name, kind.Type);
        return (ctx, source, path.Segments.Skip(2 + kind.ComponentDepth).ToList());
    }

    private static RestoreException ComponentNotFound(string display, string component, string disk, string type)
    {
        string what = type == "part" && !int.TryParse(component, out _)
            ? $"'{component}' is not a partition number" : $"disk '{disk}' has no {type} '{component}'";
        return new RestoreException(RestoreErrorCode.ComponentNotFound, $"'{display}': {what}", display);
    }

    private static IBucketKind KindOf(DiskContext ctx, string type, string display)
    {
        var kind = BucketCatalog.Find(type);
        if (kind is null || !ctx.Buckets(BucketCatalog.Kinds).Any(b => b.Type == type))
        {
            var present = ctx.Buckets(BucketCatalog.Kinds).Select(b => b.Type).Distinct().ToList();
            string has = present.Count == 0 ? "none" : string.Join(", ", present);
            throw new RestoreException(RestoreErrorCode.BucketTypeNotFound,
                $"'{display}': disk '{ctx.Device.Name}' has no bucket type '{type}' (it has: {has})", display);
        }
        return kind;
    }

    private DiskContext FindDisk(string name)
    {
        var contexts = Contexts();
        return DiskNameMatcher.Find(contexts, c => c.Device.Name, name)
            ?? throw new RestoreException(RestoreErrorCode.DiskNotFound,
                $"disk '{name}' not found (disks: {(contexts.Count == 0 ? "none" : string.Join(", ", contexts.Select(c => c.Device.Name)))})", name);
    }

    private List<DiskContext> Contexts()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var devices = _virtio.Scan().Concat(_images.List()).ToList();
        lock (_gate)
        {
            foreach (var stale in _contexts.Keys.Except(devices.Select(d => d.KernelName)).ToList())
            {
                _contexts[stale].Release();
                _contexts.Remove(stale);
            }
            return devices.Select(Context).ToList();
        }
    }

    private DiskContext Context(DiskDevice device)
    {
        lock (_gate)
        {
            if (!_contexts.TryGetValue(device.KernelName, out var ctx) || ctx.Device != device)
                _contexts[device.KernelName] = ctx = new DiskContext(device, _options, _nodes, Contexts);
            return ctx;
        }
    }

    private RestoreDisk ToDisk(DiskContext ctx)
    {
        var d = ctx.Device;
        var types = ctx.Buckets(BucketCatalog.Kinds).Select(b => b.Type).Distinct().ToList();
        var (table, tableError) = ctx.Table;
        return new RestoreDisk(d.Name, d.DevicePath, d.KernelName, d.Size, d.Source, d.ImagePath, table?.Label, types)
        {
            Serial = d.Serial,
            Warnings = tableError is not null ? [$"partition table unreadable: {tableError}"] : table?.Warnings ?? [],
        };
    }

    private RestoreBucket ToBucket(DiskContext ctx, BucketSource b)
    {
        string path = RestorePath.Join(ctx.Device.Name, b.Type, b.Component);
        var mount = _mounter.Get(path);
        return new RestoreBucket(ctx.Device.Name, b.Type, b.Component, path, b.Device, b.Size,
            b.FileSystem?.Type, b.FileSystem?.Label, b.FileSystem?.Uuid, mount is not null, mount?.MountPoint, b.Error)
        {
            Start = b.Start,
            PartitionType = b.PartitionType,
            PartitionTypeName = b.PartitionTypeName,
            PartitionName = b.PartitionName,
            PartitionUuid = b.PartitionUuid,
            VolumeType = b.VolumeType,
            IsContainer = b.IsContainer,
            JournalReplayed = mount is null ? null : mount.Replay,
            // The mounted filesystem's answer, else what the trees on the disk say.
            DefaultSubvolume = mount?.DefaultSubvolume ?? b.FileSystem?.DefaultSubvolume,
            // Without an overlay (a host's read-only loop) the journal is not replayed: recent files may be missing.
            Warnings = b.FileSystem is { JournalDirty: true } fs && mount is not { Replay: true }
                ? [$"its {fs.Type} journal holds changes not yet written in place (a backup of a running VM): the image is only read, so they are not replayed, and files written just before the backup may be missing or old; a restore VM (Start-RestoreVM, without -NoRecovery) replays it in a throw-away overlay"]
                : [],
        };
    }

    /// <summary>A disk name as one directory name: a serial may hold characters a path must not.</summary>
    private static string SafeSegment(string name) =>
        string.Concat(name.Select(c => c == '/' || c == '\0' || char.IsControl(c) ? '_' : c)) is var s && s is "." or ".." ? "_" + s : s;

    /// <summary>Numbers in numeric order (2 before 10), names after.</summary>
    private sealed class ComponentOrder : IComparer<string>
    {
        public static readonly ComponentOrder Instance = new();
        public int Compare(string? x, string? y)
        {
            bool nx = long.TryParse(x, out long a), ny = long.TryParse(y, out long b);
            if (nx && ny) return a.CompareTo(b);
            if (nx != ny) return nx ? -1 : 1;
            return string.CompareOrdinal(x, y);
        }
    }
}
