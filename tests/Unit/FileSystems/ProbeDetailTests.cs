using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using RestoreTools.Engine.Mounting;
using static RestoreTools.Tests.Unit.FileSystems.ProbeTestSupport;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>Second superblock copies, wrapped volumes and what the mounter is told (UFS flavour, never-write options).</summary>
public sealed class ProbeDetailTests
{
    private const long MiB = 1024 * 1024;

    /// <summary>A damaged primary nilfs2 superblock (its CRC no longer matches): blkid and we both read the backup at the end.</summary>
    [Fact]
    public void NilfsFallsBackToTheBackupSuperblock()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("nilfs.img");
        CreateSparse(img, 160 * MiB);
        Run("mkfs.nilfs2", "-q", "-L", "nilfslabel", img);
        WriteAt(img, 1024 + 0xA8, "X"u8);                               // first byte of s_volume_name

        using var reader = new FileBlockReader(img);
        var info = new NilfsProbe().Probe(reader);
        Assert.Equal("nilfslabel", info?.Label);
        Assert.Equal(Blkid(img).GetValueOrDefault("LABEL"), info?.Label);
        Assert.Equal(Blkid(img).GetValueOrDefault("UUID"), info?.Uuid);
    }

    /// <summary>
    /// A damaged first f2fs superblock with a checksum: we read the second copy, as the kernel mounts it.
    /// blkid 2.38 (here) does not check the checksum and reports the damaged label; 2.39+ rejects the copy.
    /// </summary>
    [Fact]
    public void F2fsReadsTheSecondCopyWhenTheFirstChecksumFails()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("f2fs.img");
        CreateSparse(img, 64 * MiB);
        Run("mkfs.f2fs", "-q", "-f", "-O", "sb_checksum", "-l", "f2sum", img);
        WriteAt(img, 1024 + 0x7C + 4, "X\0"u8);                           // third UTF-16 character of the first copy's label

        using var reader = new FileBlockReader(img);
        var info = new F2fsProbe().Probe(reader);
        Assert.Equal("f2sum", info?.Label);
        Assert.Equal(Blkid(img).GetValueOrDefault("UUID"), info?.Uuid);
    }

    /// <summary>An HFS+ volume inside an HFS wrapper: blkid's hfs probe steps aside and hfsplus reads the inner header.</summary>
    [Fact]
    public void HfsPlusInsideHfsWrapper()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("wrapped.img");
        CreateSparse(img, NamedFormatImages.Size);
        NamedFormatImages.WriteHfsWrapper(img, "Inner Volume");

        using var reader = new FileBlockReader(img);
        var info = FileSystemProber.Default.Probe(reader);
        Assert.Equal("hfsplus", info?.Type);
        Assert.Equal("Inner Volume", info?.Label);
        Assert.Null(new HfsProbe().Probe(reader));
        var blkid = Blkid(img);
        Assert.Equal("hfsplus", blkid.GetValueOrDefault("TYPE"));
        Assert.Equal(blkid.GetValueOrDefault("LABEL"), info?.Label);
        Assert.Equal(blkid.GetValueOrDefault("UUID"), info?.Uuid);
    }

    /// <summary>
    /// Where the UFS superblock is decides the ufstype: NetBSD makefs writes UFS1 and UFS2 at 8 KiB; FreeBSD's
    /// newfs puts UFS2 at 64 KiB. Linux reads UFS2 only at 64 KiB, so makefs's UFS2 gets no ufstype at all.
    /// </summary>
    [Theory]
    [InlineData(1, "1", 8192L, new[] { "ufstype=44bsd" })]
    [InlineData(2, "2", 8192L, new string[0])]
    public void UfsSuperblockPlaceChoosesTheUfstype(int makefsVersion, string version, long offset, string[] types)
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("ufs.img");
        string content = MakeContent(tmp);
        Run("makefs", "-t", "ffs", "-o", $"version={makefsVersion}", "-s", "8m", img, content);
        using var reader = new FileBlockReader(img);
        var info = new UfsProbe().Probe(reader);
        Assert.Equal(version, info?.Version);
        Assert.Equal(offset, info?.SuperblockOffset);
        Assert.Equal(types, MountOptions.UfsTypes(info?.Version, info?.SuperblockOffset));
    }

    [Fact]
    public void Ufs2At64KiBMountsAsUfs2()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("ufs2.img");
        CreateSparse(img, 8 * MiB);
        SyntheticImages.WriteUfs2Superblock(img, "freebsdroot");
        using var reader = new FileBlockReader(img);
        var info = new UfsProbe().Probe(reader);
        Assert.Equal(65536, info?.SuperblockOffset);
        Assert.Equal(["ufstype=ufs2"], MountOptions.UfsTypes(info?.Version, info?.SuperblockOffset));
    }

    /// <summary>
    /// genisoimage -udf writes a UDF bridge (ISO 9660 and UDF on one image). blkid reports udf (it probes udf
    /// first and both are tolerant of the other), and so does the prober, though the iso9660 probe matches too.
    /// </summary>
    [Fact]
    public void UdfBridgeIsUdfFirst()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("bridge.iso");
        Run("genisoimage", "-quiet", "-udf", "-V", "BRIDGE", "-o", img, MakeContent(tmp));
        using var reader = new FileBlockReader(img);
        var info = FileSystemProber.Default.Probe(reader);
        var blkid = Blkid(img);
        Assert.Equal("udf", info?.Type);
        Assert.Equal("udf", blkid.GetValueOrDefault("TYPE"));
        Assert.Equal("BRIDGE", info?.Label);
        Assert.Equal(blkid.GetValueOrDefault("UUID"), info?.Uuid);            // upper-case hex volume set id, lowered
        Assert.Equal(blkid.GetValueOrDefault("VERSION"), info?.Version);
        Assert.Equal("iso9660", new Iso9660Probe().Probe(reader)?.Type);
    }

    /// <summary>A minix v2 superblock byte-swapped to big-endian (as a 68k or SPARC Minix wrote it): blkid reads both orders.</summary>
    [Fact]
    public void MinixBigEndian()
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("minix.img");
        CreateSparse(img, 16 * MiB);
        Run("mkfs.minix", "-2", img);
        byte[] sb = new byte[32];
        using (var fs = File.OpenRead(img)) { fs.Position = 1024; fs.ReadExactly(sb); }
        // u16 fields at 0..10, u32 s_max_size at 12, u16 s_magic and s_state at 16 and 18, u32 s_zones at 20.
        foreach (int o in new[] { 0, 2, 4, 6, 8, 10, 16, 18 }) Array.Reverse(sb, o, 2);
        foreach (int o in new[] { 12, 20 }) Array.Reverse(sb, o, 4);
        WriteAt(img, 1024, sb);

        using var reader = new FileBlockReader(img);
        var info = FileSystemProber.Default.Probe(reader);
        Assert.Equal("minix", info?.Type);
        Assert.Equal("2", info?.Version);
        Assert.Equal("minix", Blkid(img).GetValueOrDefault("TYPE"));
        Assert.Equal(Blkid(img).GetValueOrDefault("VERSION"), info?.Version);
    }

    /// <summary>Log-structured filesystems that write on a plain read-only mount get norecovery, unless the device is a throw-away overlay.</summary>
    [Theory]
    [InlineData("nilfs2", "norecovery")]
    [InlineData("f2fs", "norecovery")]
    [InlineData("udf", "utf8")]
    [InlineData("jfs", null)]
    [InlineData("reiserfs", null)]
    public void NeverWriteOptions(string type, string? options)
    {
        Assert.Equal(options, MountOptions.For(type));
        if (options == "norecovery") Assert.Null(MountOptions.For(type, replay: true));
    }
}
