using FileSystemInfo = RestoreTools.Engine.FileSystems.FileSystemInfo;
using RestoreTools.Engine.FileSystems;

namespace RestoreTools.Engine.Buckets;

/// <summary>
/// One kind of bucket ("part", "raw"; later "lvm", "zpool"): how it finds its buckets on a disk
/// and how many path segments name one of them. Adding a kind means adding one class here and
/// listing it in <see cref="BucketCatalog"/>.
/// </summary>
internal interface IBucketKind
{
    string Type { get; }

    /// <summary>Path segments after the type that name one bucket: part 1 (/disk/part/1), raw 0 (/disk/raw), lvm 2 (vg/lv).</summary>
    int ComponentDepth { get; }

    IEnumerable<BucketSource> Enumerate(DiskContext disk);
}

/// <summary>A bucket found on a disk: where its block device is and what its superblock says.</summary>
internal sealed record BucketSource(string Type, string Component, string? Device, long Size, FileSystemInfo? FileSystem, string? Error)
{
    public long? Start { get; init; }
    public string? PartitionType { get; init; }
    public string? PartitionTypeName { get; init; }
    public string? PartitionName { get; init; }
    public string? PartitionUuid { get; init; }
    public bool IsContainer { get; init; }
    public string? VolumeType { get; init; }

    /// <summary>Device-mapper devices that make Device (an LV in the restore VM): mapped only while the bucket is mounted.</summary>
    public Lvm.DmPlan? Plan { get; init; }

    /// <summary>Unreadable until another disk is attached (a VG's PV on it): listed again when the disks change.</summary>
    public bool AwaitsDisk { get; init; }
}
