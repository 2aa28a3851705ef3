using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using static RestoreTools.Tests.Unit.FileSystems.ProbeTestSupport;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>
/// Formats whose tools cannot build an image on a plain file here (mdadm, pvcreate) or do not exist in
/// Debian 12 (zpool; and no FreeBSD newfs for a UFS2 superblock at 64 KiB, makefs puts it at 8 KiB). The headers come from SyntheticImages; where blkid recognises the synthetic image,
/// its TYPE/LABEL/UUID are the reference too.
/// </summary>
public sealed class SyntheticProbeTests
{
    private const long Size = 8 * 1024 * 1024;
    private const long ZfsSize = 64 * 1024 * 1024;   // blkid (and ZFS) ignore devices under 64 MiB

    public static TheoryData<string, string, string?, string?, string?> Cases() => new()
    {
        // format, expected type, label, uuid, version
        { "lvm", "LVM2_member", null, "Q3bx0S-LlFk-2yS9-bUvh-Gz4k-NcVm-pW7aTe", "LVM2 001" },
        { "md090", "linux_raid_member", null, "11223344-5566-7788-99aa-bbccddeeff00", "0.90.0" },
        { "md10", "linux_raid_member", "host:md10", "01234567-89ab-cdef-0011-223344556677", "1.0" },
        { "md11", "linux_raid_member", "host:md11", "01234567-89ab-cdef-0011-223344556677", "1.1" },
        { "md12", "linux_raid_member", "host:md12", "01234567-89ab-cdef-0011-223344556677", "1.2" },
        { "zfs", "zfs_member", "tank", "1234567890123456789", "5000" },
        { "ufs2-64k", "ufs", "freebsdroot", "5f3a9c010badf00d", "2" },
    };

    private static string Build(ProbeTempDir tmp, string format)
    {
        string img = tmp.File(format + ".img");
        CreateSparse(img, format == "zfs" ? ZfsSize : Size);
        switch (format)
        {
            case "lvm": SyntheticImages.WriteLvmLabel(img); break;
            case "md090": SyntheticImages.WriteMd090(img, Size); break;
            case "md10": SyntheticImages.WriteMd1(img, Size, 0, "host:md10"); break;
            case "md11": SyntheticImages.WriteMd1(img, Size, 1, "host:md11"); break;
            case "md12": SyntheticImages.WriteMd1(img, Size, 2, "host:md12"); break;
            case "zfs": SyntheticImages.WriteZfsLabels(img, "tank"); break;
            case "ufs2-64k": SyntheticImages.WriteUfs2Superblock(img, "freebsdroot"); break;
            default: throw new ArgumentOutOfRangeException(nameof(format));
        }
        return img;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProbeReadsSyntheticHeader(string format, string type, string? label, string? uuid, string? version)
    {
        using var tmp = new ProbeTempDir();
        string img = Build(tmp, format);
        using var reader = new FileBlockReader(img);
        var info = FileSystemProber.Default.Probe(reader);

        Assert.NotNull(info);
        Assert.Equal(type, info.Type);
        Assert.Equal(label, info.Label);
        Assert.Equal(uuid, info.Uuid);
        Assert.Equal(version, info.Version);
        Assert.Equal(type == "ufs", info.IsMountable);
        Assert.Single(FileSystemProber.DefaultProbes, p => p.Probe(reader) is not null);

        // blkid recognises all of these synthetic headers; it must agree with us.
        var blkid = Blkid(img);
        Assert.Equal(type, blkid.GetValueOrDefault("TYPE"));
        Assert.Equal(blkid.GetValueOrDefault("LABEL"), info.Label);
        Assert.Equal(blkid.GetValueOrDefault("UUID"), info.Uuid);
    }

    /// <summary>An MD v1.0 member keeps the array's filesystem at offset 0; the container must win, as in blkid.</summary>
    [Fact]
    public void RaidMemberWithFilesystemInsideIsReportedAsRaid()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("member.img");
        CreateSparse(img, 64 * 1024 * 1024);
        Run("mkfs.ext4", "-q", "-F", "-L", "inner", img);
        SyntheticImages.WriteMd1(img, 64 * 1024 * 1024, 0, "host:md10");

        using var reader = new FileBlockReader(img);
        var info = FileSystemProber.Default.Probe(reader);
        Assert.Equal("linux_raid_member", info?.Type);
        Assert.Equal("linux_raid_member", Blkid(img).GetValueOrDefault("TYPE"));
        Assert.Equal("ext4", new Ext4Probe().Probe(reader)?.Type);
    }

    /// <summary>A damaged md v1 checksum or LVM CRC means no signature.</summary>
    [Fact]
    public void BadChecksumsAreRejected()
    {
        using var tmp = new ProbeTempDir();
        string md = Build(tmp, "md12");
        WriteAt(md, 0x1000 + 40, [0x42]);                                   // inside set_name, covered by sb_csum
        using (var r = new FileBlockReader(md)) Assert.Null(new MdRaidProbe().Probe(r));

        string lvm = Build(tmp, "lvm");
        WriteAt(lvm, 512 + 40, [(byte)'!']);                                 // inside pv_uuid, covered by crc_xl
        using (var r = new FileBlockReader(lvm)) Assert.Null(new LvmProbe().Probe(r));
    }

    /// <summary>ZFS needs four uberblocks, as blkid: three are not enough.</summary>
    [Fact]
    public void ZfsNeedsFourUberblocks()
    {
        var data = new byte[64 * 1024 * 1024];
        for (int i = 0; i < 3; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(128 * 1024 + i * 1024), 0x00bab10c);
        Assert.Null(new ZfsProbe().Probe(new MemoryBlockReader(data)));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(128 * 1024 + 3 * 1024), 0x00bab10c);
        Assert.Equal("zfs_member", new ZfsProbe().Probe(new MemoryBlockReader(data))?.Type);
        Assert.Null(new ZfsProbe().Probe(new MemoryBlockReader(data[..(32 * 1024 * 1024)])));   // under the 64 MiB minimum
    }
}
