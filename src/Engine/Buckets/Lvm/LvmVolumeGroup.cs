namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>A volume group as its metadata describes it. Sizes in 512-byte sectors, as lvm2 writes them.</summary>
public sealed record LvmVolumeGroup(string Name, string Id, long SeqNo, long ExtentSize, IReadOnlyList<LvmPv> PhysicalVolumes, IReadOnlyList<LvmLv> LogicalVolumes)
{
    /// <summary>The volume group in one metadata text (the one section that is not a plain value).</summary>
    public static LvmVolumeGroup Parse(string text)
    {
        var root = LvmText.Parse(text);
        var (name, vg) = root.Sections.Count == 1 ? root.Sections[0] : throw new InvalidDataException($"LVM metadata with {root.Sections.Count} volume groups, not one");
        long extent = vg.Num("extent_size") is long e && e > 0 && e <= 1L << 40 ? e : throw new InvalidDataException($"volume group '{name}' has no valid extent_size");
        var pvs = (vg.Sub("physical_volumes")?.Sections ?? []).Select(p => new LvmPv(p.Name, p.Section.Str("id") ?? "",
            p.Section.Num("pe_start") ?? 0, p.Section.Num("pe_count") ?? 0, p.Section.Str("device"))).ToList();
        var lvs = (vg.Sub("logical_volumes")?.Sections ?? []).Select(l => new LvmLv(l.Name, l.Section.Str("id") ?? "",
            (l.Section.List("status") ?? []).OfType<string>().ToList(),
            l.Section.Sections.Where(s => s.Name.StartsWith("segment", StringComparison.Ordinal)).Select(s => Segment(name, l.Name, s.Section)).OrderBy(s => s.StartExtent).ToList())).ToList();
        return new LvmVolumeGroup(name, vg.Str("id") ?? "", vg.Num("seqno") ?? 0, extent, pvs, lvs);
    }

    private static LvmSegment Segment(string vg, string lv, LvmText.Section s)
    {
        string type = s.Str("type") ?? throw new InvalidDataException($"LV '{vg}/{lv}' has a segment without a type");
        long start = s.Num("start_extent") ?? -1, count = s.Num("extent_count") ?? -1;
        if (start < 0 || count <= 0) throw new InvalidDataException($"LV '{vg}/{lv}' has a segment without a valid extent range");
        var stripes = new List<(string Pv, long StartExtent)>();
        var list = s.List("stripes") ?? [];
        for (int i = 0; i + 1 < list.Count; i += 2)
            if (list[i] is string pv && list[i + 1] is long at && at >= 0) stripes.Add((pv, at));
        // Sub-LVs a segment is built on: raid legs ("raids", names only: each leg starts at its own
        // extent 0) and mirror legs ("mirrors", name and extent pairs).
        var areas = new List<(string Lv, long StartExtent)>();
        foreach (var o in s.List("raids") ?? []) if (o is string leg) areas.Add((leg, 0));
        var mirrors = s.List("mirrors") ?? [];
        for (int i = 0; i + 1 < mirrors.Count; i += 2)
            if (mirrors[i] is string leg && mirrors[i + 1] is long at && at >= 0) areas.Add((leg, at));
        return new LvmSegment(start, count, type, s.Num("stripe_size"), stripes,
            s.Str("thin_pool"), s.Str("origin"), s.Num("device_id"))
        {
            Areas = areas,
            Metadata = s.Str("metadata"),
            Pool = s.Str("pool"),
            ChunkSize = s.Num("chunk_size"),
            CowStore = s.Str("cow_store"),
        };
    }

    /// <summary>Where a linear LV of one run lies on its PV: the byte offset from the PV's start and the length; null otherwise.</summary>
    public (string Pv, long Offset, long Length)? ContiguousExtent(LvmLv lv)
    {
        if (lv.Segments.Count == 0) return null;
        string? pvName = null;
        long nextPvExtent = -1, nextLvExtent = 0, first = -1;
        foreach (var seg in lv.Segments)
        {
            if (seg.Type != "striped" || seg.Stripes.Count != 1 || seg.StartExtent != nextLvExtent) return null;
            var (pv, at) = seg.Stripes[0];
            if (pvName is not null && (pv != pvName || at != nextPvExtent)) return null;
            pvName ??= pv;
            if (first < 0) first = at;
            nextPvExtent = at + seg.ExtentCount;
            nextLvExtent = seg.StartExtent + seg.ExtentCount;
        }
        var p = PhysicalVolumes.FirstOrDefault(x => x.Name == pvName);
        if (p is null || p.PeStart < 0 || first < 0) return null;
        // Metadata is read from an image: numbers that overflow describe no place on any disk.
        try { return (p.Id, checked((p.PeStart + first * ExtentSize) * 512), checked(nextLvExtent * ExtentSize * 512)); }
        catch (OverflowException) { return null; }
    }
}

public sealed record LvmPv(string Name, string Id, long PeStart, long PeCount, string? DeviceHint);

public sealed record LvmLv(string Name, string Id, IReadOnlyList<string> Status, IReadOnlyList<LvmSegment> Segments)
{
    public long ExtentCount => Segments.Sum(s => s.ExtentCount);

    /// <summary>Kind as lvs would call it: linear, striped, mirror, raid1, thin, thin-pool, snapshot...</summary>
    public string Kind => Segments.Count == 0 ? "unknown" : Segments[0] switch
    {
        { Type: "striped", Stripes.Count: 1 } => "linear",
        var s => s.Type,
    };
}

public sealed record LvmSegment(long StartExtent, long ExtentCount, string Type, long? StripeSize, IReadOnlyList<(string Pv, long StartExtent)> Stripes,
    string? ThinPool, string? Origin, long? DeviceId)
{
    /// <summary>Raid and mirror legs: sub-LV names and where in them this segment starts.</summary>
    public IReadOnlyList<(string Lv, long StartExtent)> Areas { get; init; } = [];

    /// <summary>A thin pool's metadata and data sub-LVs.</summary>
    public string? Metadata { get; init; }
    public string? Pool { get; init; }

    /// <summary>Sectors: a thin pool's data block, a snapshot's chunk.</summary>
    public long? ChunkSize { get; init; }

    /// <summary>An old-style snapshot's exception store (the visible LV users call the snapshot).</summary>
    public string? CowStore { get; init; }
}
