using System.Globalization;

namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>Where a PV's bytes are: a block device ("MAJ:MIN") and the PV's first sector on it.</summary>
public sealed record PvLocation(string Device, long StartSector, long SizeSectors, string Where)
{
    /// <summary>Reads bytes at an offset from the PV's start (a raid leg's superblock); null when it cannot.</summary>
    public Func<long, int, byte[]?>? Read { get; init; }
}

/// <summary>
/// One device-mapper device to make: its table, whose arguments are text or other planned devices
/// (made first, and named in the table by their MAJ:MIN). Key names it among the devices of one
/// VG, so that two LVs on one thin pool share that pool's devices: the kernel lets only one pool
/// use a metadata device.
/// </summary>
public sealed record DmPlan(string Key, IReadOnlyList<DmPlanTarget> Targets)
{
    /// <summary>Loaded as a read-only table: all but a thin pool, which the kernel never takes in one (its target is "always writeable").</summary>
    public bool ReadOnly { get; init; } = true;

    /// <summary>This plan and the ones it needs, each once, the needed first.</summary>
    public IReadOnlyList<DmPlan> InOrder()
    {
        var order = new List<DmPlan>();
        void Visit(DmPlan p)
        {
            if (order.Contains(p)) return;
            foreach (var t in p.Targets) foreach (var a in t.Args) if (a is DmPlan dep) Visit(dep);
            order.Add(p);
        }
        Visit(this);
        return order;
    }
}

/// <summary>A table line: sectors, target type and arguments (string, long or a <see cref="DmPlan"/>).</summary>
public sealed record DmPlanTarget(long Start, long Length, string Type, IReadOnlyList<object> Args)
{
    public string Render(Func<DmPlan, string> deviceOf) => string.Join(' ', Args.Select(a => a switch
    {
        DmPlan p => deviceOf(p),
        long n => n.ToString(CultureInfo.InvariantCulture),
        _ => a.ToString(),
    }));
}

/// <summary>Why an LV cannot be built: a kind not supported, or a PV that is not attached.</summary>
public sealed class LvmUnbuildableException(string message, bool missingDisk = false) : Exception(message)
{
    /// <summary>A PV it needs is not on any disk seen now: attaching another disk may complete it.</summary>
    public bool MissingDisk { get; } = missingDisk;
}

/// <summary>
/// Device-mapper tables for the LVs of one VG, built from its metadata alone (what lvm2 would load
/// at activation, minus everything that writes): linear and striped segments, raid1 and mirror
/// read from one leg whose PVs are all here, raid0 striped over its legs, thin volumes through a
/// read-only thin pool, and old-style snapshots through the snapshot target. Every table is loaded
/// read-only (the caller's job) except the thin pool's, which the kernel only takes in a writable
/// table: it gets its read_only feature instead, so that it never commits a transaction to its
/// metadata, and the devices under it stay read-only tables.
/// </summary>
public sealed class LvmDeviceTables(LvmVolumeGroup vg, IReadOnlyDictionary<string, PvLocation> pvs)
{
    private readonly Dictionary<string, DmPlan> _plans = new(StringComparer.Ordinal);
    private readonly HashSet<string> _building = new(StringComparer.Ordinal);

    private long Extent => vg.ExtentSize;

    /// <summary>The LV's size in sectors as a user sees it (a snapshot has its origin's size).</summary>
    public long SizeOf(LvmLv lv) => SnapshotOf(lv) is { } snap ? snap.ExtentCount * Extent : lv.ExtentCount * Extent;

    /// <summary>The kind lvs reports: "snapshot" for the exception store users know as the snapshot.</summary>
    public string KindOf(LvmLv lv) => SnapshotOf(lv) is not null ? "snapshot" : lv.Kind;

    /// <summary>The device for an LV as a user sees it (a snapshot: the origin as it was).</summary>
    public DmPlan Build(LvmLv lv)
    {
        if (SnapshotOf(lv) is { } snap)
        {
            var origin = Lv(snap.Origin, lv.Name);
            long chunk = snap.ChunkSize is > 0 and <= 1 << 21 ? snap.ChunkSize.Value
                : throw new LvmUnbuildableException($"snapshot '{lv.Name}' has no valid chunk_size");
            // P: the persistent exception store lvm2 writes; the origin is read through its own
            // plain mapping, as lvm2's "-real" device, so nothing is written to either.
            return Plan(lv.Name + "-snapshot", () => [new DmPlanTarget(0, snap.ExtentCount * Extent, "snapshot",
                [Plain(origin, "real"), Plain(lv, "cow"), "P", chunk])]);
        }
        return Plain(lv, "");
    }

    private LvmSegment? SnapshotOf(LvmLv lv) => vg.LogicalVolumes
        .SelectMany(l => l.Segments).FirstOrDefault(s => s.Type == "snapshot" && s.CowStore == lv.Name);

    private LvmLv Lv(string? name, string from) => vg.LogicalVolumes.FirstOrDefault(l => l.Name == name)
        ?? throw new LvmUnbuildableException($"'{from}' refers to LV '{name}', which the metadata does not have");

    /// <summary>The LV's own segments, without a snapshot on top.</summary>
    private DmPlan Plain(LvmLv lv, string role) => Plan(role.Length == 0 ? lv.Name : lv.Name + "-" + role, () =>
    {
        if (lv.Segments.Count == 0) throw new LvmUnbuildableException($"LV '{lv.Name}' has no segments");
        long next = 0;
        var targets = new List<DmPlanTarget>();
        foreach (var seg in lv.Segments)
        {
            if (seg.StartExtent != next) throw new LvmUnbuildableException($"LV '{lv.Name}' has a gap in its segments at extent {next}");
            targets.Add(Segment(lv, seg));
            next = checked(seg.StartExtent + seg.ExtentCount);
        }
        return targets;
    });

    private DmPlanTarget Segment(LvmLv lv, LvmSegment seg)
    {
        long start = checked(seg.StartExtent * Extent), length = checked(seg.ExtentCount * Extent);
        switch (seg.Type)
        {
            case "striped" when seg.Stripes.Count == 1:
                return new DmPlanTarget(start, length, "linear", PvArea(lv, seg.Stripes[0].Pv, seg.Stripes[0].StartExtent, seg.ExtentCount));
            case "striped" when seg.Stripes.Count > 1:
            {
                long stripeSize = seg.StripeSize is > 0 and <= 1 << 21 ? seg.StripeSize.Value
                    : throw new LvmUnbuildableException($"striped LV '{lv.Name}' has no valid stripe_size");
                if (seg.ExtentCount % seg.Stripes.Count != 0)
                    throw new LvmUnbuildableException($"striped LV '{lv.Name}': {seg.ExtentCount} extents do not split into {seg.Stripes.Count} stripes");
                var args = new List<object> { (long)seg.Stripes.Count, stripeSize };
                foreach (var (pv, at) in seg.Stripes) args.AddRange(PvArea(lv, pv, at, seg.ExtentCount / seg.Stripes.Count));
                return new DmPlanTarget(start, length, "striped", args);
            }
            case "raid1" or "mirror":
            {
                // Every leg holds the whole LV: read from the first one in sync whose PVs are all attached.
                var missing = new List<LvmUnbuildableException>();
                foreach (var (legName, at) in seg.Type == "raid1" ? InSyncFirst(lv, seg) : Legs(seg))
                {
                    var leg = Lv(legName, lv.Name);
                    try
                    {
                        var dev = Plain(leg, "");
                        return new DmPlanTarget(start, length, "linear", [dev, checked(at * Extent)]);
                    }
                    catch (LvmUnbuildableException ex) { missing.Add(ex); }
                }
                throw new LvmUnbuildableException(seg.Areas.Count == 0
                    ? $"{seg.Type} LV '{lv.Name}' lists no legs"
                    : $"no leg of {seg.Type} LV '{lv.Name}' can be read: {string.Join("; ", missing.Select(e => e.Message).Distinct())}",
                    missing.Any(e => e.MissingDisk));
            }
            case "raid0" or "raid0_meta":
            {
                long stripeSize = seg.StripeSize is > 0 and <= 1 << 21 ? seg.StripeSize.Value
                    : throw new LvmUnbuildableException($"raid0 LV '{lv.Name}' has no valid stripe_size");
                var legs = Legs(seg);
                if (legs.Count == 0) throw new LvmUnbuildableException($"raid0 LV '{lv.Name}' lists no legs");
                var args = new List<object> { (long)legs.Count, stripeSize };
                foreach (var (legName, _) in legs) { args.Add(Plain(Lv(legName, lv.Name), "")); args.Add(0L); }
                return new DmPlanTarget(start, length, "striped", args);
            }
            case "thin":
            {
                var pool = Lv(seg.ThinPool, lv.Name);
                long id = seg.DeviceId is >= 0 and < 1L << 24 ? seg.DeviceId.Value
                    : throw new LvmUnbuildableException($"thin LV '{lv.Name}' has no valid device_id");
                return new DmPlanTarget(start, length, "thin", [ThinPool(pool), id]);
            }
            case "thin-pool":
                throw new LvmUnbuildableException($"'{lv.Name}' is a thin pool, not a volume: its thin volumes are listed beside it");
            case "error" or "zero":
                return new DmPlanTarget(start, length, seg.Type, []);
            default:
                throw new LvmUnbuildableException($"'{lv.Name}' is a {seg.Type} LV, which this version cannot read");
        }
    }

    /// <summary>
    /// A raid1's legs, those that dm-raid's superblocks say hold the newest data first; a leg they
    /// say missed writes (failed, older events, not recovered) is left out, so that a leg that was
    /// away while the others were written is never read. Without readable superblocks (their PVs
    /// are not attached), lvm2's order.
    /// </summary>
    private List<(string Lv, long StartExtent)> InSyncFirst(LvmLv lv, LvmSegment seg)
    {
        var legs = Legs(seg);
        var metas = seg.Areas.Where(a => a.Lv.Contains("_rmeta_", StringComparison.Ordinal)).ToList();
        if (metas.Count != legs.Count) return legs;
        var superblocks = metas.Select(m => ReadStart(m.Lv, 4096) is { } b ? LvmRaidSuperblock.Parse(b) : null).ToList();
        var inSync = LvmRaidSuperblock.InSync(superblocks);
        if (inSync is null) return legs;
        var ordered = legs.Where((_, i) => inSync.Contains(i)).Concat(legs.Where((_, i) => superblocks[i] is null)).ToList();
        if (ordered.Count == 0)
            throw new LvmUnbuildableException($"raid1 LV '{lv.Name}': no leg is in sync, by the raid superblocks on its legs");
        return ordered;
    }

    /// <summary>The first bytes of a linear sub-LV (a raid leg's metadata), or null when its PV is not attached or cannot be read.</summary>
    private byte[]? ReadStart(string lvName, int count)
    {
        var sub = vg.LogicalVolumes.FirstOrDefault(l => l.Name == lvName);
        if (sub?.Segments is not [{ Type: "striped", Stripes: [var (pvName, at)] }, ..]) return null;
        var pv = vg.PhysicalVolumes.FirstOrDefault(p => p.Name == pvName);
        if (pv is null || !pvs.TryGetValue(pv.Id.Replace("-", ""), out var where) || where.Read is null) return null;
        try { return where.Read(checked((pv.PeStart + at * Extent) * 512), count); }
        catch (OverflowException) { return null; }
    }

    /// <summary>The data legs: a raid lists each leg's metadata sub-LV (_rmeta_N, a name lvm2 keeps for itself) before it.</summary>
    private static List<(string Lv, long StartExtent)> Legs(LvmSegment seg) =>
        seg.Areas.Where(a => !a.Lv.Contains("_rmeta_", StringComparison.Ordinal)).ToList();

    private DmPlan ThinPool(LvmLv pool) => Plan(pool.Name + "-tpool", () =>
    {
        var seg = pool.Segments.Count == 1 && pool.Segments[0].Type == "thin-pool" ? pool.Segments[0]
            : throw new LvmUnbuildableException($"'{pool.Name}' is not a thin pool of one segment");
        long block = seg.ChunkSize is >= 128 and <= 2097152 ? seg.ChunkSize.Value
            : throw new LvmUnbuildableException($"thin pool '{pool.Name}' has no valid chunk_size");
        var meta = Plain(Lv(seg.Metadata, pool.Name), "");
        var data = Plain(Lv(seg.Pool, pool.Name), "");
        // Low water mark 0; read_only: the pool is only read, its metadata never committed;
        // skip_block_zeroing and no discards, which only matter for writes.
        return [new DmPlanTarget(0, checked(seg.ExtentCount * Extent), "thin-pool",
            [meta, data, block, 0L, 3L, "read_only", "skip_block_zeroing", "ignore_discard"])];
    }, readOnly: false); // the kernel refuses a thin pool in a read-only table; its read_only feature is what keeps it from writing

    /// <summary>"MAJ:MIN SECTOR" of extents on a PV, which must be attached and hold them.</summary>
    private object[] PvArea(LvmLv lv, string pvName, long atExtent, long extents)
    {
        var pv = vg.PhysicalVolumes.FirstOrDefault(p => p.Name == pvName)
            ?? throw new LvmUnbuildableException($"LV '{lv.Name}' uses PV '{pvName}', which the metadata does not list");
        if (!pvs.TryGetValue(pv.Id.Replace("-", ""), out var where))
            throw new LvmUnbuildableException($"PV {pvName} ({pv.Id}{(pv.DeviceHint is null ? "" : $", last seen as {pv.DeviceHint}")}) is missing: attach the disk that holds it", missingDisk: true);
        long offset = checked(pv.PeStart + atExtent * Extent);
        if (offset < 0 || checked(offset + extents * Extent) > where.SizeSectors)
            throw new LvmUnbuildableException($"LV '{lv.Name}' lies past the end of PV {pvName} on {where.Where}");
        return [where.Device, checked(where.StartSector + offset)];
    }

    private DmPlan Plan(string key, Func<List<DmPlanTarget>> build, bool readOnly = true)
    {
        if (_plans.TryGetValue(key, out var done)) return done;
        // Metadata from an image may make LVs refer to each other in a circle.
        if (!_building.Add(key)) throw new LvmUnbuildableException($"LV '{key}' is built on itself");
        try
        {
            List<DmPlanTarget> targets;
            try { targets = build(); }
            catch (OverflowException) { throw new LvmUnbuildableException($"LV '{key}' has extents past any disk's end"); }
            var plan = new DmPlan(vg.Name + "/" + key, targets) { ReadOnly = readOnly };
            _plans[key] = plan;
            return plan;
        }
        finally { _building.Remove(key); }
    }
}
