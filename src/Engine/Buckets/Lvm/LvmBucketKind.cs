using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>
/// "lvm": one bucket per logical volume, named VG/LV (/disk/lvm/vg-data/lv-root), found from the
/// metadata of the PVs on the disk (the whole disk, or partitions that probe as LVM2_member). A
/// linear LV that is one contiguous run of extents on a PV of this disk is served, without
/// device-mapper, by a read-only loop device at its byte offset over the disk; every other kind
/// says what it is and that it needs device-mapper (device-mapper tables in the restore VM are
/// the next step of this bucket kind).
/// </summary>
internal sealed class LvmBucketKind : IBucketKind
{
    public string Type => "lvm";
    public int ComponentDepth => 2;

    public IEnumerable<BucketSource> Enumerate(DiskContext disk)
    {
        var found = new List<BucketSource>();
        foreach (var (pvStart, pvSize, where) in PhysicalVolumes(disk))
        {
            LvmPhysicalVolume? pv;
            LvmVolumeGroup vg;
            try
            {
                using (var reader = disk.OpenReader())
                    pv = LvmPhysicalVolume.Read(new SliceBlockReader(reader, pvStart, pvSize));
                if (pv?.MetadataText is null) continue;
                vg = LvmVolumeGroup.Parse(pv.MetadataText);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                disk.Options.Warning?.Invoke($"disk '{disk.Device.Name}': the LVM2 PV on {where} cannot be read: {ex.Message}");
                continue;
            }
            var self = vg.PhysicalVolumes.FirstOrDefault(p => p.Id.Replace("-", "") == pv.Id);
            foreach (var lv in vg.LogicalVolumes)
            {
                if (!lv.Status.Contains("VISIBLE")) continue; // internal LVs: thin pool data, raid and mirror legs
                found.Add(Bucket(disk, vg, lv, self, pvStart, pvSize));
            }
        }
        return found;
    }

    private static BucketSource Bucket(DiskContext disk, LvmVolumeGroup vg, LvmLv lv, LvmPv? self, long pvStart, long pvSize)
    {
        string component = vg.Name + "/" + lv.Name;
        long size = lv.ExtentCount * vg.ExtentSize * 512;
        var extent = vg.ContiguousExtent(lv);
        string? why = extent is null
            ? lv.Kind == "linear"
                ? $"a linear LV in {lv.Segments.Count} runs: joining them needs device-mapper, which this kernel lacks"
                : $"a {lv.Kind} LV: building it needs device-mapper, which this kernel lacks"
            : self is null || extent.Value.Pv != self.Id
                ? $"its extents are on PV {extent.Value.Pv}, which is not on this disk: attach that disk too"
                : extent.Value.Offset + extent.Value.Length > pvSize
                    ? "its extents lie past the end of its PV"
                    : null;
        if (why is not null) return new BucketSource("lvm", component, null, size, null, $"{component}: {why}");

        long start = pvStart + extent!.Value.Offset, length = extent.Value.Length;
        string? device = null, error = null;
        try { device = disk.Expose(start, length); }
        catch (IOException ex) { error = $"{component} cannot be exposed as a device: {ex.Message}"; }
        var fs = disk.Probe(start, length);
        if (error is null && fs is null) error = "no known filesystem signature";
        else if (fs is { IsMountable: false }) error = $"holds {fs.Type}, not a mountable filesystem";
        return new BucketSource("lvm", component, device, length, fs, error) { Start = start };
    }

    /// <summary>Where PVs may lie: the whole disk when it has no table, otherwise partitions that probe as LVM2_member.</summary>
    private static IEnumerable<(long Start, long Size, string Where)> PhysicalVolumes(DiskContext disk)
    {
        var (table, _) = disk.Table;
        if (table is null)
        {
            if (disk.Probe(0, disk.Device.Size)?.Type == "LVM2_member") yield return (0, disk.Device.Size, "the whole disk");
            yield break;
        }
        foreach (var p in table.Partitions)
            if (disk.Probe(p.StartBytes, p.SizeBytes)?.Type == "LVM2_member")
                yield return (p.StartBytes, p.SizeBytes, $"partition {p.Number}");
    }
}
