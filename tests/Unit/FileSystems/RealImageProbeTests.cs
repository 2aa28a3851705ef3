using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using static RestoreTools.Tests.Unit.FileSystems.ProbeTestSupport;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>Images made by the real mkfs tools on plain files, probed and compared with blkid -p.</summary>
public sealed class RealImageProbeTests
{
    private const long MiB = 1024 * 1024;

    /// <summary>Builds the image; returns its path.</summary>
    private delegate string Builder(ProbeTempDir tmp);

    private sealed record Case(Builder Build, string Type, string? Label, string? Version, bool Mountable = true);

    private static string Mkfs(ProbeTempDir tmp, long size, string tool, params string[] args)
    {
        string img = tmp.File("fs.img");
        CreateSparse(img, size);
        Run(tool, [.. args, img]);
        return img;
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["ext2"] = new(t => Mkfs(t, 64 * MiB, "mkfs.ext2", "-q", "-F", "-L", "lab-ext2"), "ext2", "lab-ext2", "1.0"),
        ["ext3"] = new(t => Mkfs(t, 64 * MiB, "mkfs.ext3", "-q", "-F", "-L", "lab-ext3"), "ext3", "lab-ext3", "1.0"),
        ["ext4"] = new(t => Mkfs(t, 64 * MiB, "mkfs.ext4", "-q", "-F", "-L", "mylabel"), "ext4", "mylabel", "1.0"),
        // No journal but extents/64bit/metadata_csum: still ext4, not ext2.
        ["ext4-nojournal"] = new(t => Mkfs(t, 64 * MiB, "mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-L", "nojournal"), "ext4", "nojournal", "1.0"),
        ["xfs"] = new(t => Mkfs(t, 320 * MiB, "mkfs.xfs", "-q", "-f", "-L", "xfslabel"), "xfs", "xfslabel", null),
        ["btrfs"] = new(t => Mkfs(t, 256 * MiB, "mkfs.btrfs", "-q", "-f", "-L", "btrfs label"), "btrfs", "btrfs label", null),
        ["fat12"] = new(t => Mkfs(t, 4 * MiB, "mkfs.vfat", "-F", "12", "-n", "LAB12"), "vfat", "LAB12", "FAT12"),
        ["fat16"] = new(t => Mkfs(t, 32 * MiB, "mkfs.vfat", "-F", "16", "-n", "LAB16"), "vfat", "LAB16", "FAT16"),
        ["fat32"] = new(t => Mkfs(t, 64 * MiB, "mkfs.vfat", "-F", "32", "-n", "LAB32"), "vfat", "LAB32", "FAT32"),
        ["fat-nolabel"] = new(t => Mkfs(t, 16 * MiB, "mkfs.vfat"), "vfat", null, "FAT16"),
        // Root-directory label entry deleted, boot-sector label kept: blkid reports no LABEL (only LABEL_FATBOOT).
        ["fat-bootlabel-only"] = new(t => FatWithoutRootLabel(t), "vfat", null, "FAT16"),
        ["ntfs"] = new(t => Mkfs(t, 64 * MiB, "mkntfs", "-q", "-F", "-f", "-L", "NtfsVolume"), "ntfs", "NtfsVolume", null),
        ["exfat"] = new(t => Mkfs(t, 64 * MiB, "mkfs.exfat", "-L", "ExLabel"), "exfat", "ExLabel", "1.0"),
        ["iso9660"] = new(t => Iso(t, "MY_ISO_LABEL", joliet: false), "iso9660", "MY_ISO_LABEL", null),
        ["iso9660-joliet"] = new(t => Iso(t, "MyJolietLabel", joliet: true), "iso9660", "MyJolietLabel", "Joliet Extension"),
        ["squashfs"] = new(t => { var img = t.File("fs.img"); Run("mksquashfs", MakeContent(t), img, "-quiet", "-noappend"); return img; },
            "squashfs", null, "4.0"),
        // erofs-utils 1.5 (Debian 12) has no label option; the UUID is fixed with -U instead.
        ["erofs"] = new(t => { var img = t.File("fs.img"); Run("mkfs.erofs", "--quiet", "-U6f1d3c2a-5b4e-4a9d-8c7b-0e1f2a3b4c5d", img, MakeContent(t)); return img; },
            "erofs", null, null),
        // ...so the label test writes volume_name (superblock + 64) and re-seals the superblock crc32c.
        ["erofs-volname"] = new(t => ErofsWithVolname(t, "erolabel"), "erofs", "erolabel", null),
        ["ufs2"] = new(t => Ufs(t, 2), "ufs", null, "2"),
        ["ufs1"] = new(t => Ufs(t, 1), "ufs", null, "1"),
        // makefs cannot set a volume name: write fs_volname (superblock + 680) into the superblock makefs made.
        ["ufs2-volname"] = new(t => UfsWithVolname(t, "ufsvolume"), "ufs", "ufsvolume", "2"),
        ["f2fs"] = new(t => Mkfs(t, 64 * MiB, "mkfs.f2fs", "-q", "-f", "-l", "f2label"), "f2fs", "f2label", null),
        ["f2fs-checksum"] = new(t => Mkfs(t, 64 * MiB, "mkfs.f2fs", "-q", "-f", "-O", "sb_checksum", "-l", "f2sum"), "f2fs", "f2sum", null),
        ["jfs"] = new(t => Mkfs(t, 64 * MiB, "mkfs.jfs", "-q", "-L", "jfslabel"), "jfs", "jfslabel", null),
        ["reiserfs-3.6"] = new(t => Mkfs(t, 64 * MiB, "mkfs.reiserfs", "-q", "-f", "-l", "reiserlabel"), "reiserfs", "reiserlabel", "3.6"),
        // 3.5 has no label field: blkid reports none although one was given.
        ["reiserfs-3.5"] = new(t => Mkfs(t, 64 * MiB, "mkfs.reiserfs", "-q", "-f", "--format", "3.5", "-l", "ignored"), "reiserfs", null, "3.5"),
        // A non-default journal size makes a "relocated journal" superblock (ReIsEr3Fs), which blkid calls JR.
        ["reiserfs-jr"] = new(t => Mkfs(t, 64 * MiB, "mkfs.reiserfs", "-q", "-f", "-s", "1024", "-l", "jrlabel"), "reiserfs", "jrlabel", "JR"),
        ["udf"] = new(t => Mkfs(t, 64 * MiB, "mkudffs", "--label=udflabel"), "udf", "udflabel", "2.01"),
        // A character outside Latin-1 makes mkudffs store the identifiers as UTF-16BE (compression id 16).
        // (mkudffs reads the label in the locale's charset: run it under C.UTF-8, not the helpers' plain C.)
        ["udf-unicode"] = new(t => Mkfs(t, 16 * MiB, "env", "LC_ALL=C.UTF-8", "mkudffs", "--label=Ünï✓code"), "udf", "Ünï✓code", "2.01"),
        ["udf-4k-blocks"] = new(t => Mkfs(t, 64 * MiB, "mkudffs", "--blocksize=4096", "--label=udf4k"), "udf", "udf4k", "2.01"),
        ["nilfs2"] = new(t => Mkfs(t, 160 * MiB, "mkfs.nilfs2", "-q", "-L", "nilfslabel"), "nilfs2", "nilfslabel", "2"),
        ["minix1"] = new(t => Mkfs(t, 16 * MiB, "mkfs.minix", "-1"), "minix", null, "1"),
        ["minix2"] = new(t => Mkfs(t, 16 * MiB, "mkfs.minix", "-2"), "minix", null, "2"),
        ["minix3"] = new(t => Mkfs(t, 16 * MiB, "mkfs.minix", "-3"), "minix", null, "3"),
        // Plain HFS from hfsutils; Debian 12 has no mkfs.hfsplus (hfsprogs left it), so HFS+ is a synthetic header.
        ["hfs"] = new(t => Mkfs(t, 16 * MiB, "hformat", "-l", "hfslabel"), "hfs", "hfslabel", null),
        // hformat leaves the Finder id zero (no UUID): set one so blkid's MD5-derived UUID is compared too.
        ["hfs-finderid"] = new(t => { var img = Mkfs(t, 16 * MiB, "hformat", "-l", "Mac Disk"); WriteAt(img, 1024 + 116, Convert.FromHexString("0011223344556677")); return img; },
            "hfs", "Mac Disk", null),
        // apfsprogs' mkapfs: named, not mounted (no Linux driver).
        ["apfs"] = new(t => Mkfs(t, 128 * MiB, "mkapfs", "-L", "apfslabel"), "apfs", null, null, Mountable: false),
        ["swap"] = new(t => Mkfs(t, 16 * MiB, "mkswap", "-L", "swaplabel"), "swap", "swaplabel", "1", Mountable: false),
        ["luks1"] = new(t => Luks(t, "luks1", null), "crypto_LUKS", null, "1", Mountable: false),
        ["luks2"] = new(t => Luks(t, "luks2", "cryptlabel"), "crypto_LUKS", "cryptlabel", "2", Mountable: false),
    };

    public static TheoryData<string> Formats() => new(Cases.Keys);

    private static string FatWithoutRootLabel(ProbeTempDir t)
    {
        string img = Mkfs(t, 16 * MiB, "mkfs.vfat", "-F", "16", "-n", "BOOTONLY");
        byte[] bs = new byte[512];
        using (var fs = File.OpenRead(img)) fs.ReadExactly(bs);
        int bps = BitConverter.ToUInt16(bs, 11), reserved = BitConverter.ToUInt16(bs, 14), fatLen = BitConverter.ToUInt16(bs, 22);
        WriteAt(img, (long)(reserved + fatLen * bs[16]) * bps, [0xE5]);   // mark the first root entry (the label) deleted
        return img;
    }

    private static string Iso(ProbeTempDir t, string label, bool joliet)
    {
        string img = t.File("fs.iso");
        var args = new List<string> { "-quiet", "-V", label, "-o", img };
        if (joliet) args.Add("-J");
        args.Add(MakeContent(t));
        Run("genisoimage", [.. args]);
        return img;
    }

    // No mkfs.ufs in Debian: the "makefs" package (NetBSD makefs) writes FFS/UFS images from a directory.
    private static string Ufs(ProbeTempDir t, int version)
    {
        string img = t.File("fs.img");
        Run("makefs", "-t", "ffs", "-o", $"version={version}", "-s", "8m", img, MakeContent(t));
        return img;
    }

    private static string UfsWithVolname(ProbeTempDir t, string name)
    {
        string img = Ufs(t, 2);
        byte[] head = new byte[0x50000];
        using (var fs = File.OpenRead(img)) fs.ReadExactly(head);
        // NetBSD makefs puts the UFS2 superblock at 8 KiB, FreeBSD newfs at 64 KiB: patch wherever fs_magic is.
        long sb = new long[] { 0, 8192, 65536, 262144 }.First(o => BitConverter.ToUInt32(head, (int)o + 1372) == 0x19540119);
        WriteAt(img, sb + 680, System.Text.Encoding.ASCII.GetBytes(name));
        return img;
    }

    private static string ErofsWithVolname(ProbeTempDir t, string name)
    {
        string img = t.File("fs.img");
        Run("mkfs.erofs", "--quiet", img, MakeContent(t));
        byte[] head = new byte[4096];
        using (var fs = File.OpenRead(img)) fs.ReadExactly(head);
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(head, 1024 + 64);
        if ((BitConverter.ToUInt32(head, 1024 + 8) & 1) != 0)              // feature_compat SB_CHKSUM
        {
            int blockSize = 1 << head[1024 + 12];
            Array.Clear(head, 1024 + 4, 4);
            uint crc = 0xFFFFFFFF;
            foreach (byte b in head.AsSpan(1024, blockSize - 1024))
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
            BitConverter.GetBytes(crc).CopyTo(head, 1024 + 4);
        }
        WriteAt(img, 0, head);
        return img;
    }

    private static string Luks(ProbeTempDir t, string type, string? label)
    {
        string img = t.File("fs.img");
        CreateSparse(img, 32 * MiB);
        var args = new List<string> { "luksFormat", "-q", "--type", type, "--key-file", "-", "--pbkdf-force-iterations", "1000" };
        if (type == "luks2") args.AddRange(["--pbkdf", "pbkdf2"]);
        if (label is not null) args.AddRange(["--label", label]);
        args.Add(img);
        RunWithInput("secret", "cryptsetup", [.. args]);
        return img;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ProbeAgreesWithBlkid(string format)
    {
        var c = Cases[format];
        using var tmp = new ProbeTempDir();
        string img = c.Build(tmp);
        var blkid = Blkid(img);

        using var reader = new FileBlockReader(img);
        var info = FileSystemProber.Default.Probe(reader);

        Assert.NotNull(info);
        Assert.Equal(c.Type, blkid.GetValueOrDefault("TYPE"));
        Assert.Equal(blkid.GetValueOrDefault("TYPE"), info.Type);
        Assert.Equal(blkid.GetValueOrDefault("LABEL"), info.Label);
        Assert.Equal(blkid.GetValueOrDefault("UUID"), info.Uuid);
        Assert.Equal(c.Label, info.Label);
        Assert.Equal(c.Mountable, info.IsMountable);
        if (c.Version is not null) Assert.Equal(c.Version, info.Version);
        if (blkid.TryGetValue("VERSION", out var v)) Assert.Equal(v, info.Version);
        if (!c.Mountable) Assert.False(string.IsNullOrWhiteSpace(info.Reason));
    }

    /// <summary>blkid -p reports "ambivalent result" when two signatures match; ours must match exactly one too.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void ExactlyOneProbeMatches(string format)
    {
        using var tmp = new ProbeTempDir();
        string img = Cases[format].Build(tmp);
        using var reader = new FileBlockReader(img);
        var matches = FileSystemProber.DefaultProbes.Select(p => p.Probe(reader)).Where(i => i is not null).ToList();
        Assert.Single(matches);
    }

    /// <summary>Cut short at many lengths (a truncated image or a short partition): never throws.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void TruncatedImageDoesNotThrow(string format)
    {
        using var tmp = new ProbeTempDir();
        string img = Cases[format].Build(tmp);
        using var reader = new FileBlockReader(img);
        long[] lengths = [0, 1, 511, 512, 1024, 1100, 2048, 4096, 8192, 0x8000, 0x8800, 0x10000, 0x10400, 0x11000, 0x20000, 0x40000, MiB, 4 * MiB];
        foreach (long len in lengths.Where(l => l < reader.Length))
        {
            var slice = new SliceBlockReader(reader, 0, len);
            foreach (var probe in FileSystemProber.DefaultProbes)
            {
                var ex = Record.Exception(() => probe.Probe(slice));
                Assert.True(ex is null, $"{probe.GetType().Name} threw on {len} bytes: {ex}");
            }
        }
    }

    /// <summary>Random bytes sprayed over the superblock area of a real image: null or a result, never an exception.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void CorruptedSuperblockDoesNotThrow(string format)
    {
        using var tmp = new ProbeTempDir();
        string img = Cases[format].Build(tmp);
        byte[] pristine;
        using (var fs = File.OpenRead(img))
        {
            pristine = new byte[Math.Min(fs.Length, 2 * MiB)];
            fs.ReadExactly(pristine);
        }
        var rng = new Random(format.GetHashCode(StringComparison.Ordinal) & 0x7FFF);
        for (int round = 0; round < 200; round++)
        {
            byte[] data = (byte[])pristine.Clone();
            // Aim at the places superblocks live (0, 1 KiB, 4 KiB, 32 KiB, 64 KiB) so the fields, not padding, get hit.
            long[] hot = [0, 1024, 4096, 0x8000, 0x10000];
            long start = hot[rng.Next(hot.Length)];
            for (int k = 0; k < 24; k++)
            {
                long at = start + rng.Next(1400);
                if (at < data.Length) data[at] = (byte)rng.Next(256);
            }
            var dev = new MemoryBlockReader(data);
            foreach (var probe in FileSystemProber.DefaultProbes)
            {
                var ex = Record.Exception(() => probe.Probe(dev));
                Assert.True(ex is null, $"{probe.GetType().Name} threw on corrupted {format}: {ex}");
            }
        }
    }
}
