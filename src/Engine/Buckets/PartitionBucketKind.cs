using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Native;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Engine.Buckets;

/// <summary>
/// "part": one bucket per partition, numbered as Linux numbers them. The table is always read in
/// user space (for types, names and UUIDs); the block device comes from sysfs when the kernel
/// scanned the table itself, and is otherwise added with BLKPG, as partx -a does.
/// </summary>
internal sealed class PartitionBucketKind : IBucketKind
{
    public string Type => "part";
    public int ComponentDepth => 1;

    public IEnumerable<BucketSource> Enumerate(DiskContext disk)
    {
        var (table, tableError) = disk.Table;
        var kernel = Sysfs.Partitions(disk.Device.SysfsDir).ToDictionary(p => p.Number, p => p.Dir);

        if (table is null)
        {
            // The kernel may know a table we do not (BSD disklabels, ...): take its word for the extents.
            foreach (var (number, dir) in kernel.OrderBy(p => p.Key))
            {
                long start = (Sysfs.ReadLong(Path.Combine(dir, "start")) ?? 0) * 512;
                long size = (Sysfs.ReadLong(Path.Combine(dir, "size")) ?? 0) * 512;
                yield return Describe(disk, number.ToString(), start, size, () => disk.Nodes.Resolve(dir)) with
                {
                    PartitionTypeName = tableError is null ? null : "unknown (table unreadable here)",
                };
            }
            yield break;
        }

        foreach (var p in table.Partitions)
        {
            string Device()
            {
                if (!kernel.TryGetValue(p.Number, out var dir)) dir = Expose(disk, p);
                return disk.Nodes.Resolve(dir);
            }
            yield return Describe(disk, p.Number.ToString(), p.StartBytes, p.SizeBytes, Device, isContainer: IsExtended(p)) with
            {
                PartitionType = p.Type,
                PartitionTypeName = p.TypeName,
                PartitionName = string.IsNullOrEmpty(p.Name) ? null : p.Name,
                PartitionUuid = p.Uuid,
            };
        }
    }

    private static BucketSource Describe(DiskContext disk, string component, long start, long size, Func<string> device, bool isContainer = false)
    {
        string? path = null, error = null;
        try { path = device(); }
        catch (IOException ex) { error = $"partition {component} cannot be exposed as a device: {ex.Message}"; }
        var fs = isContainer ? null : disk.Probe(start, size);
        if (error is null && fs is null && !isContainer) error = "no known filesystem signature";
        if (isContainer) error = "extended partition: it holds the logical partitions (5 and up), no filesystem";
        else if (fs is { IsMountable: false }) error = fs.Reason ?? $"holds {fs.Type}, not a mountable filesystem";
        return new BucketSource("part", component, path, size, fs, error) { Start = start, IsContainer = isContainer };
    }

    private static bool IsExtended(PartitionEntry p) => p.Type is "0x05" or "0x0f" or "0x85";

    /// <summary>Adds the partition to the disk device and returns its new sysfs folder.</summary>
    private static string Expose(DiskContext disk, PartitionEntry p)
    {
        // Linux gives an extended partition a 1 KiB device so it cannot overlap its logical ones.
        long length = IsExtended(p) ? Math.Min(p.SizeBytes, 1024) : p.SizeBytes;
        BlockDeviceIoctl.AddPartition(disk.Device.DevicePath, p.Number, p.StartBytes, length);
        for (int i = 0; i < 50; i++)
        {
            foreach (var (number, dir) in Sysfs.Partitions(disk.Device.SysfsDir))
                if (number == p.Number) return dir;
            Thread.Sleep(10);
        }
        throw new IOException($"partition {p.Number} was added but did not appear in sysfs");
    }
}
