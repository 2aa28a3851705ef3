namespace RestoreTools.Engine.Buckets;

/// <summary>"raw": a filesystem on the whole disk, with no partition table. Named /disk/raw.</summary>
internal sealed class RawBucketKind : IBucketKind
{
    public string Type => "raw";
    public int ComponentDepth => 0;

    public IEnumerable<BucketSource> Enumerate(DiskContext disk)
    {
        if (disk.Table.Table is not null || Disks.Sysfs.Partitions(disk.Device.SysfsDir).Any()) yield break;
        var fs = disk.Probe(0, disk.Device.Size);
        // A whole disk with no table and no filesystem is empty, not a broken bucket.
        if (fs is null) yield break;
        yield return new BucketSource("raw", "", disk.Device.DevicePath, disk.Device.Size, fs,
            fs.IsMountable ? null : fs.Reason ?? $"holds {fs.Type}, not a mountable filesystem") { Start = 0 };
    }
}
