using RestoreTools.Engine.Buckets.Lvm;

namespace RestoreTools.Tests.Unit.Buckets;

/// <summary>
/// The device-mapper tables built from VG metadata, in the text format lvm2 writes (the segment
/// layouts as lvm2 2.03 writes them for raid1, mirror, thin and snapshot LVs). The same tables are
/// loaded by a restore VM in tests/Pester/Lvm.Tests.ps1, on images lvm2 made.
/// </summary>
public sealed class LvmDeviceTablesTests
{
    private const string Metadata = """
        vg {
            id = "vg-id"
            seqno = 9
            extent_size = 8192
            physical_volumes {
                pv0 { id = "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa" device = "/dev/vda2" pe_start = 2048 pe_count = 100 }
                pv1 { id = "bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb" device = "/dev/vdb" pe_start = 2048 pe_count = 100 }
            }
            logical_volumes {
                split { id = "1" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv0", 10] }
                    segment2 { start_extent = 2 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv1", 3] }
                }
                st { id = "2" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 4 type = "striped" stripe_count = 2 stripe_size = 128 stripes = ["pv0", 20, "pv1", 20] }
                }
                r1 { id = "3" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 2 type = "raid1" device_count = 2 region_size = 4096 raids = ["r1_rmeta_0", "r1_rimage_0", "r1_rmeta_1", "r1_rimage_1"] }
                }
                r1_rmeta_0 { id = "4" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 30] } }
                r1_rimage_0 { id = "5" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv0", 31] } }
                r1_rmeta_1 { id = "6" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv1", 30] } }
                r1_rimage_1 { id = "7" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv1", 31] } }
                pool { id = "8" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 4 type = "thin-pool" metadata = "pool_tmeta" pool = "pool_tdata" transaction_id = 2 chunk_size = 128 discards = "passdown" zero_new_blocks = 1 }
                }
                pool_tmeta { id = "9" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 40] } }
                pool_tdata { id = "10" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 4 type = "striped" stripe_count = 1 stripes = ["pv0", 41] } }
                thin1 { id = "11" status = ["READ", "WRITE", "VISIBLE"] segment1 { start_extent = 0 extent_count = 5 type = "thin" thin_pool = "pool" transaction_id = 1 device_id = 1 } }
                thin2 { id = "12" status = ["READ", "WRITE", "VISIBLE"] segment1 { start_extent = 0 extent_count = 5 type = "thin" thin_pool = "pool" transaction_id = 2 device_id = 2 } }
                origin { id = "13" status = ["READ", "WRITE", "VISIBLE"] segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv0", 50] } }
                snap { id = "14" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 60] } }
                snapshot0 { id = "15" status = ["READ", "WRITE", "VISIBLE"] segment1 { start_extent = 0 extent_count = 2 type = "snapshot" chunk_size = 8 origin = "origin" cow_store = "snap" } }
                mi { id = "16" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 1 type = "mirror" mirror_count = 2 region_size = 1024 mirrors = ["mi_mimage_0", 0, "mi_mimage_1", 0] }
                }
                mi_mimage_0 { id = "17" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv1", 70] } }
                mi_mimage_1 { id = "18" status = ["READ", "WRITE"] segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 70] } }
                r5 { id = "19" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 2 type = "raid5_ls" device_count = 3 stripe_size = 128 raids = ["a", "b"] }
                }
                loopy { id = "20" status = ["READ", "WRITE", "VISIBLE"]
                    segment1 { start_extent = 0 extent_count = 1 type = "mirror" mirrors = ["loopy", 0] }
                }
            }
        }
        """;

    private static readonly LvmVolumeGroup Vg = LvmVolumeGroup.Parse(Metadata);

    // pv0 is partition 2 of disk 253:0 starting at sector 4096; pv1 the whole of disk 253:16.
    private static Dictionary<string, PvLocation> Pvs(bool withPv1 = true)
    {
        var d = new Dictionary<string, PvLocation> { ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] = new("253:0", 4096, 2048 + 100 * 8192, "disk 'a' partition 2") };
        if (withPv1) d["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"] = new("253:16", 0, 2048 + 100 * 8192, "disk 'b' the whole disk");
        return d;
    }

    private static LvmLv Lv(string name) => Vg.LogicalVolumes.Single(l => l.Name == name);

    /// <summary>Every device of the plan, needed ones first, as "key: start length type args" with devices named by key.</summary>
    private static List<string> Render(DmPlan plan) => plan.InOrder()
        .Select(p => p.Key + ": " + string.Join(" | ", p.Targets.Select(t => $"{t.Start} {t.Length} {t.Type} {t.Render(d => "<" + d.Key + ">")}")))
        .ToList();

    [Fact]
    public void ALinearLvInRunsOnTwoDisksIsOneLinearTargetPerRun()
    {
        var plan = new LvmDeviceTables(Vg, Pvs()).Build(Lv("split"));
        // pv0: partition start 4096 + pe_start 2048 + extent 10 x 8192; pv1: 2048 + 3 x 8192.
        Assert.Equal(["vg/split: 0 16384 linear 253:0 88064 | 16384 8192 linear 253:16 26624"], Render(plan));
    }

    [Fact]
    public void AStripedLvIsOneStripedTarget()
    {
        var plan = new LvmDeviceTables(Vg, Pvs()).Build(Lv("st"));
        Assert.Equal(["vg/st: 0 32768 striped 2 128 253:0 169984 253:16 165888"], Render(plan));
    }

    [Fact]
    public void Raid1AndMirrorAreReadFromOneLegAndFromTheOtherWhenItsDiskIsMissing()
    {
        var both = new LvmDeviceTables(Vg, Pvs());
        Assert.Equal(["vg/r1_rimage_0: 0 16384 linear 253:0 260096", "vg/r1: 0 16384 linear <vg/r1_rimage_0> 0"], Render(both.Build(Lv("r1"))));
        Assert.Equal(["vg/mi_mimage_0: 0 8192 linear 253:16 575488", "vg/mi: 0 8192 linear <vg/mi_mimage_0> 0"], Render(both.Build(Lv("mi"))));

        var onlyA = new LvmDeviceTables(Vg, Pvs(withPv1: false));
        Assert.Equal(["vg/r1_rimage_0: 0 16384 linear 253:0 260096", "vg/r1: 0 16384 linear <vg/r1_rimage_0> 0"], Render(onlyA.Build(Lv("r1"))));
        Assert.Equal(["vg/mi_mimage_1: 0 8192 linear 253:0 579584", "vg/mi: 0 8192 linear <vg/mi_mimage_1> 0"], Render(onlyA.Build(Lv("mi"))));
    }

    [Fact]
    public void ThinVolumesShareOneReadOnlyPool()
    {
        var tables = new LvmDeviceTables(Vg, Pvs());
        var thin1 = Render(tables.Build(Lv("thin1")));
        Assert.Equal([
            "vg/pool_tmeta: 0 8192 linear 253:0 333824",
            "vg/pool_tdata: 0 32768 linear 253:0 342016",
            "vg/pool-tpool: 0 32768 thin-pool <vg/pool_tmeta> <vg/pool_tdata> 128 0 3 read_only skip_block_zeroing ignore_discard",
            "vg/thin1: 0 40960 thin <vg/pool-tpool> 1"], thin1);
        var thin2 = tables.Build(Lv("thin2"));
        Assert.Same(tables.Build(Lv("thin1")).InOrder()[2], thin2.InOrder()[2]);
        Assert.Contains("pool, not a volume", Assert.Throws<LvmUnbuildableException>(() => tables.Build(Lv("pool"))).Message);
    }

    [Fact]
    public void ASnapshotIsTheSnapshotTargetOverTheOriginAndItsStore()
    {
        var tables = new LvmDeviceTables(Vg, Pvs());
        Assert.Equal("snapshot", tables.KindOf(Lv("snap")));
        Assert.Equal(2 * 8192, tables.SizeOf(Lv("snap")));
        Assert.Equal([
            "vg/origin-real: 0 16384 linear 253:0 415744",
            "vg/snap-cow: 0 8192 linear 253:0 497664",
            "vg/snap-snapshot: 0 16384 snapshot <vg/origin-real> <vg/snap-cow> P 8"], Render(tables.Build(Lv("snap"))));
        // The origin itself is its own plain mapping.
        Assert.Equal(["vg/origin: 0 16384 linear 253:0 415744"], Render(tables.Build(Lv("origin"))));
    }

    [Fact]
    public void WhatCannotBeBuiltSaysWhy()
    {
        var onlyA = new LvmDeviceTables(Vg, Pvs(withPv1: false));
        var missing = Assert.Throws<LvmUnbuildableException>(() => onlyA.Build(Lv("split"))).Message;
        Assert.Contains("PV pv1 (bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb, last seen as /dev/vdb) is missing: attach the disk that holds it", missing);
        Assert.Contains("raid5_ls LV, which this version cannot read", Assert.Throws<LvmUnbuildableException>(() => onlyA.Build(Lv("r5"))).Message);
        Assert.Contains("built on itself", Assert.Throws<LvmUnbuildableException>(() => onlyA.Build(Lv("loopy"))).Message);

        // A PV that is shorter than its metadata says.
        var shortPv = new Dictionary<string, PvLocation> { ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] = new("253:0", 4096, 8192, "disk 'a' partition 2") };
        Assert.Contains("past the end of PV pv0", Assert.Throws<LvmUnbuildableException>(() => new LvmDeviceTables(Vg, shortPv).Build(Lv("origin"))).Message);
    }

    /// <summary>A dm-raid superblock as dm-raid.c writes it at the start of a leg's rmeta sub-LV.</summary>
    private static byte[] RaidSuperblock(int position, ulong events, ulong failed, ulong recovery = ulong.MaxValue)
    {
        var b = new byte[4096];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b, 0x64526D44);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), (uint)position);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), events);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), failed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), recovery);
        return b;
    }

    /// <summary>The PVs, each reading the given superblocks at the rmeta legs' offsets (pv0 extent 30: leg 0, pv1 extent 30: leg 1).</summary>
    private static Dictionary<string, PvLocation> WithSuperblocks(byte[]? leg0, byte[]? leg1, bool withPv1 = true)
    {
        const long RmetaOffset = (2048 + 30 * 8192) * 512L;
        var d = Pvs(withPv1);
        foreach (var (key, sb) in new[] { ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", leg0), ("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", leg1) })
            if (d.TryGetValue(key, out var pv))
                d[key] = pv with { Read = (offset, count) => offset == RmetaOffset && sb is not null ? sb[..count] : null };
        return d;
    }

    [Fact]
    public void Raid1SkipsALegTheRaidSuperblocksSayMissedWrites()
    {
        // Leg 0 was away while leg 1 was written: leg 1's superblock is newer and marks position 0 failed.
        var stale = WithSuperblocks(RaidSuperblock(0, 10, 0), RaidSuperblock(1, 14, 0b01));
        Assert.Equal(["vg/r1_rimage_1: 0 16384 linear 253:16 256000", "vg/r1: 0 16384 linear <vg/r1_rimage_1> 0"],
            Render(new LvmDeviceTables(Vg, stale).Build(Lv("r1"))));
        // A leg still being rebuilt (recovery offset short of the end) is not read either.
        var rebuilding = WithSuperblocks(RaidSuperblock(0, 14, 0, recovery: 1024), RaidSuperblock(1, 14, 0));
        Assert.Equal("vg/r1: 0 16384 linear <vg/r1_rimage_1> 0", Render(new LvmDeviceTables(Vg, rebuilding).Build(Lv("r1")))[^1]);
        // Both in sync: the first leg, as lvm2 lists them.
        var synced = WithSuperblocks(RaidSuperblock(0, 14, 0), RaidSuperblock(1, 14, 0));
        Assert.Equal("vg/r1: 0 16384 linear <vg/r1_rimage_0> 0", Render(new LvmDeviceTables(Vg, synced).Build(Lv("r1")))[^1]);
        // Only the stale leg's disk here: it cannot know it is stale, and lvm2 would read it too.
        var alone = WithSuperblocks(RaidSuperblock(0, 10, 0), null, withPv1: false);
        Assert.Equal("vg/r1: 0 16384 linear <vg/r1_rimage_0> 0", Render(new LvmDeviceTables(Vg, alone).Build(Lv("r1")))[^1]);
        // Garbage where a superblock should be: judged by nothing, lvm2's order.
        var garbage = WithSuperblocks(new byte[4096], new byte[4096]);
        Assert.Equal("vg/r1: 0 16384 linear <vg/r1_rimage_0> 0", Render(new LvmDeviceTables(Vg, garbage).Build(Lv("r1")))[^1]);
    }
}
