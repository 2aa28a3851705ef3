namespace RestoreTools.Engine;

/// <summary>A disk: a virtio disk inside a restore VM, or an image attached on a loop device.</summary>
public sealed record RestoreDisk(
    string Name,                 // the serial, or the name an image was attached under
    string Device,               // block node path
    string KernelName,           // vda, loop3
    long Size,                   // bytes
    string Source,               // "virtio" or "image"
    string? ImagePath,           // the backing file of an attached image
    string? PartitionTable,      // "gpt", "dos" or null
    IReadOnlyList<string> BucketTypes)
{
    /// <summary>A virtio disk's serial as qemu gave it (the name drops a .img.fidx suffix); null for an attached image.</summary>
    public string? Serial { get; init; }

    /// <summary>What reading the disk's partition table warned of (a GPT without its protective MBR, a damaged table): carried to remote clients.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>A mountable unit of a disk: a partition ("part"), the whole disk ("raw"), later LVs and pools.</summary>
public sealed record RestoreBucket(
    string Disk,
    string Type,
    string Component,
    string Path,                 // /disk/type/component
    string? Device,
    long Size,
    string? FileSystem,
    string? Label,
    string? Uuid,
    bool IsMounted,
    string? MountPoint,
    string? Error = null)
{
    public long? Start { get; init; }
    public string? PartitionType { get; init; }
    public string? PartitionTypeName { get; init; }
    public string? PartitionName { get; init; }
    public string? PartitionUuid { get; init; }

    /// <summary>An lvm bucket's kind as lvs names it: linear, striped, raid1, mirror, thin, snapshot, thin-pool.</summary>
    public string? VolumeType { get; init; }

    /// <summary>
    /// Mounted with its journal or log replayed into a throw-away overlay (in a restore VM), so files
    /// written just before a crash-consistent backup appear; false when mounted without replay; null when not mounted.
    /// </summary>
    public bool? JournalReplayed { get; init; }

    /// <summary>What the user should know before trusting a listing: a dirty journal that this mount does not replay.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// btrfs, which is mounted at its top level so that every subvolume is a folder: the path of the default
    /// subvolume (what the guest mounted without subvol=), "/" when that is the top level. Read from the trees on
    /// the disk (one device), and from the kernel once mounted.
    /// </summary>
    public string? DefaultSubvolume { get; init; }

    /// <summary>A container of other buckets (an extended partition holds the logical ones): never mounted itself.</summary>
    public bool IsContainer { get; init; }
}

public enum ResolvedKind { Root, Disk, BucketType, Bucket, Item }

/// <summary>One entry of a partial path's listing: a disk, a bucket type or a component.</summary>
public sealed record RestorePathEntry(string Name, string Path, ResolvedKind Kind, long? Size, string? Detail = null);

/// <summary>What a restore path names. LocalPath is set for Bucket and Item.</summary>
public sealed record ResolvedPath(
    string Path,
    ResolvedKind Kind,
    string? Disk,
    string? BucketType,
    string? Component,
    string? RelativePath,
    string? LocalPath,
    RestoreBucket? Bucket,
    IReadOnlyList<RestorePathEntry> Children);

/// <summary>Stable error codes shared by the cmdlets (error ids) and the agent (JSON codes).</summary>
public enum RestoreErrorCode
{
    InvalidPath,
    DiskNotFound,
    BucketTypeNotFound,
    ComponentNotFound,
    ItemNotFound,
    SymlinkLoop,
    MountFailed,
    UnmountFailed,
    ImageNotFound,
    AttachFailed,
    DetachFailed,
    NameInUse,
    NotSupported,
    NotAFile,
    ReadFailed,
    TargetExists,
    WriteFailed,
    VmStartFailed,
    VmNotFound,
}

public sealed class RestoreException(RestoreErrorCode code, string message, string? target = null, Exception? inner = null)
    : Exception(message, inner)
{
    public RestoreErrorCode Code { get; } = code;
    public string? Target { get; } = target;
}
