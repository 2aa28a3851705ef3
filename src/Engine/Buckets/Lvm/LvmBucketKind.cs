using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>
/// "lvm": one bucket per logical volume, named VG/LV (/disk/lvm/vg-data/lv-root), for every VG with
/// a PV on the disk (the whole disk, or partitions that probe as LVM2_member); its other PVs may be
/// on other disks the engine sees. Where the kernel has device-mapper (the restore VM), every LV is
/// built from the metadata as read-only device-mapper tables (<see cref="LvmDeviceTables"/>).
/// Without it (this host), a linear LV that is one contiguous run of extents is served by a
/// read-only loop device at its byte offset over the disk, and every other kind says it needs the
/// restore VM.
/// </summary>
internal sealed class LvmBucketKind : IBucketKind
{
    public string Type => "lvm";
    public int ComponentDepth => 2;

    private static readonly Lazy<bool> HasDeviceMapper = new(DeviceMapper.IsAvailable);

    /// <summary>A PV found on a disk: its label, the VG its newest metadata describes, where it lies.</summary>
    internal sealed record FoundPv(DiskContext Disk, LvmPhysicalVolume Label, LvmVolumeGroup Group, long Start, long Size, string Where, int? Partition);

    public IEnumerable<BucketSource> Enumerate(DiskContext disk)
    {
        var found = new List<BucketSource>();
        // A VG with several PVs on this disk is listed once, from its newest metadata.
        foreach (var group in PhysicalVolumes(disk).GroupBy(p => p.Group.Id))
        {
            var vg = group.MaxBy(p => p.Group.SeqNo)!.Group;
            var everywhere = disk.Peers().SelectMany(PhysicalVolumes).Where(p => p.Group.Id == vg.Id).ToList();
            var locations = new Dictionary<string, PvLocation>(StringComparer.Ordinal);
            foreach (var p in everywhere)
                if (Location(p) is { } location) locations.TryAdd(p.Label.Id, location);
            var tables = new LvmDeviceTables(vg, locations);
            foreach (var each in vg.LogicalVolumes)
            {
                // Internal LVs (thin pool data, raid and mirror legs) are not listed. An old-style
                // snapshot is a visible "snapshotN" LV over a hidden exception store, which is the
                // name lvs shows and users know: the bucket takes that one.
                if (!each.Status.Contains("VISIBLE")) continue;
                var lv = each.Segments is [{ Type: "snapshot", CowStore: { } cow }]
                    ? vg.LogicalVolumes.FirstOrDefault(l => l.Name == cow) : each;
                if (lv is null) continue;
                found.Add(HasDeviceMapper.Value
                    ? Mapped(disk, vg, lv, tables)
                    : Looped(disk, vg, lv, tables, everywhere));
            }
        }
        return found;
    }

    /// <summary>
    /// The block device a table names a PV by. A PV in a partition is named by the partition's own
    /// device, not by the disk at an offset: device-mapper claims what it maps exclusively, and the
    /// kernel refuses to claim a whole disk while one of its partitions is mounted (EBUSY).
    /// </summary>
    private static PvLocation? Location(FoundPv p)
    {
        string where = $"disk '{p.Disk.Device.Name}' {p.Where}";
        PvLocation? location = null;
        if (p.Partition is { } number)
        {
            foreach (var (n, dir) in Sysfs.Partitions(p.Disk.Device.SysfsDir))
                if (n == number && Sysfs.ReadDev(dir) is { } dev)
                    location = new PvLocation($"{dev.Major}:{dev.Minor}", 0, p.Size / 512, where);
        }
        if (location is null && p.Disk.DeviceNumber is { } disk) location = new PvLocation(disk, p.Start / 512, p.Size / 512, where);
        return location is null ? null : location with { Read = (offset, count) => ReadPv(p, offset, count) };
    }

    private static byte[]? ReadPv(FoundPv p, long offset, int count)
    {
        try
        {
            using var reader = p.Disk.OpenReader();
            return new SliceBlockReader(reader, p.Start, p.Size).TryRead(offset, count);
        }
        catch (IOException) { return null; }
    }

    /// <summary>The restore VM: the LV as device-mapper builds it.</summary>
    private static BucketSource Mapped(DiskContext disk, LvmVolumeGroup vg, LvmLv lv, LvmDeviceTables tables)
    {
        string component = vg.Name + "/" + lv.Name;
        long size = tables.SizeOf(lv) * 512;
        DmPlan plan;
        FileSystems.FileSystemInfo? fs;
        try
        {
            plan = tables.Build(lv);
            // Mapped to probe, then removed: an LV's devices exist only while it is mounted.
            string device = disk.Map(plan);
            try { fs = disk.ProbeDevice(device, size); }
            finally { disk.Unmap(plan); }
        }
        catch (LvmUnbuildableException ex) { return Unreadable(component, size, tables.KindOf(lv), ex.Message) with { AwaitsDisk = ex.MissingDisk }; }
        catch (IOException ex) { return Unreadable(component, size, tables.KindOf(lv), $"device-mapper refused it: {ex.Message}"); }
        return Probed(disk, component, disk.MappedNode(plan), size, fs, null) with { Plan = plan, VolumeType = tables.KindOf(lv) };
    }

    /// <summary>This host: a linear LV of one run through a loop device; anything else needs the restore VM.</summary>
    private static BucketSource Looped(DiskContext disk, LvmVolumeGroup vg, LvmLv lv, LvmDeviceTables tables, List<FoundPv> pvs)
    {
        string component = vg.Name + "/" + lv.Name;
        long size = tables.SizeOf(lv) * 512;
        string kind = tables.KindOf(lv);
        var extent = kind == "linear" ? vg.ContiguousExtent(lv) : null;
        if (extent is null)
        {
            string what = kind == "linear" ? $"a linear LV in {lv.Segments.Count} runs" : $"a {kind} LV";
            return Unreadable(component, size, kind, $"{what}: reading it needs device-mapper, which this host's kernel lacks; use Start-RestoreVM");
        }
        var pv = pvs.FirstOrDefault(p => p.Label.Id == extent.Value.Pv.Replace("-", ""));
        if (pv is null)
            return Unreadable(component, size, kind, $"its PV {extent.Value.Pv} is missing: attach the disk that holds it") with { AwaitsDisk = true };
        if (extent.Value.Offset + extent.Value.Length > pv.Size)
            return Unreadable(component, size, kind, $"its extents lie past the end of its PV on {pv.Where}");

        long start = pv.Start + extent.Value.Offset, length = extent.Value.Length;
        string? device = null, error = null;
        try { device = pv.Disk.Expose(start, length); }
        catch (IOException ex) { error = $"{component} cannot be exposed as a device: {ex.Message}"; }
        var source = Probed(pv.Disk, component, device, length, pv.Disk.Probe(start, length), error) with { VolumeType = kind };
        return pv.Disk == disk ? source with { Start = start } : source;
    }

    private static BucketSource Probed(DiskContext disk, string component, string? device, long size, FileSystems.FileSystemInfo? fs, string? error)
    {
        if (error is null && fs is null) error = "no known filesystem signature";
        else if (error is null && fs is { IsMountable: false }) error = fs.Reason ?? $"holds {fs.Type}, not a mountable filesystem";
        return new BucketSource("lvm", component, device, size, fs, error);
    }

    private static BucketSource Unreadable(string component, long size, string kind, string why) =>
        new("lvm", component, null, size, null, $"{component} ({kind}): {why}") { VolumeType = kind };

    /// <summary>The PVs on a disk, read once: the whole disk when it has no table, otherwise partitions that probe as LVM2_member.</summary>
    internal static IReadOnlyList<FoundPv> PhysicalVolumes(DiskContext disk) => disk.Cached("lvm.pvs", () =>
    {
        var list = new List<FoundPv>();
        foreach (var (start, size, where, partition) in Candidates(disk))
        {
            try
            {
                LvmPhysicalVolume? pv;
                using (var reader = disk.OpenReader())
                    pv = LvmPhysicalVolume.Read(new SliceBlockReader(reader, start, size));
                if (pv?.MetadataText is null) continue;
                list.Add(new FoundPv(disk, pv, LvmVolumeGroup.Parse(pv.MetadataText), start, size, where, partition));
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                disk.Options.Warning?.Invoke($"disk '{disk.Device.Name}': the LVM2 PV on {where} cannot be read: {ex.Message}");
            }
        }
        return (IReadOnlyList<FoundPv>)list;
    });

    private static IEnumerable<(long Start, long Size, string Where, int? Partition)> Candidates(DiskContext disk)
    {
        var (table, _) = disk.Table;
        if (table is null)
        {
            if (disk.Probe(0, disk.Device.Size)?.Type == "LVM2_member") yield return (0, disk.Device.Size, "the whole disk", null);
            yield break;
        }
        foreach (var p in table.Partitions)
            if (disk.Probe(p.StartBytes, p.SizeBytes)?.Type == "LVM2_member")
                yield return (p.StartBytes, p.SizeBytes, $"partition {p.Number}", p.Number);
    }
}
