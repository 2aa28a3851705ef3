using System.Buffers.Binary;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Partitions;

public sealed class MbrTableTests : IDisposable
{
    private readonly ImageDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void MakeExtended()
    {
        _dir.Sh("""
            truncate -s 64M m.img
            sfdisk -q m.img <<'EOF'
            label: dos
            m.img1 : start=2048, size=10240, type=83, bootable
            m.img2 : size=10240, type=82
            m.img3 : size=40960, type=5
            m.img5 : size=8192, type=83
            m.img6 : size=8192, type=8e
            EOF
            """);
    }

    [Fact]
    public void TwoPrimariesAndExtendedWithTwoLogicals_MatchSfdisk()
    {
        MakeExtended();
        var expected = Sfdisk.Json(_dir, "m.img");
        Assert.Equal([1, 2, 3, 5, 6], expected.Partitions.Select(p => p.Number));

        var table = _dir.Read("m.img");

        Sfdisk.AssertSame(expected, table);
        Assert.Empty(table!.Warnings);
        Assert.Matches("^0x[0-9a-f]{8}$", table.DiskId);
        var ext = table.Partitions.Single(p => p.Number == 3);
        Assert.Equal("0x05", ext.Type);
        Assert.Equal("Extended", ext.TypeName);
        Assert.Equal(40960, ext.SectorCount); // sfdisk's real size, not the kernel's 1 KiB stub
        Assert.Equal(["Linux", "Linux swap / Solaris", "Extended", "Linux", "Linux LVM"],
            table.Partitions.Select(p => p.TypeName));
        Assert.Equal(0x80UL, table.Partitions[0].Attributes); // bootable
        Assert.Equal(0UL, table.Partitions[1].Attributes);
    }

    [Fact]
    public void OnePartition_MatchSfdisk()
    {
        _dir.Sh("""
            truncate -s 16M one.img
            echo 'label: dos
            label-id: 0x1234abcd
            type=7' | sfdisk -q one.img
            """);
        var expected = Sfdisk.Json(_dir, "one.img");

        var table = _dir.Read("one.img");

        Sfdisk.AssertSame(expected, table);
        var p = Assert.Single(table!.Partitions);
        Assert.Equal("0x1234abcd", table.DiskId);
        Assert.Equal("1234abcd-01", p.Uuid);
        Assert.Equal("0x07", p.Type);
        Assert.Equal("HPFS/NTFS/exFAT", p.TypeName);
    }

    [Fact]
    public void EmptyDosLabel_GivesTableWithoutPartitions()
    {
        _dir.Sh("truncate -s 8M e.img; echo 'label: dos' | sfdisk -q e.img");
        var table = _dir.Read("e.img");
        Assert.NotNull(table);
        Assert.Equal("dos", table.Label);
        Assert.Empty(table.Partitions);
    }

    [Theory]
    [InlineData(false)] // second EBR links back to the first
    [InlineData(true)]  // first EBR links to itself
    public void LoopingEbrChain_Terminates(bool selfLoop)
    {
        MakeExtended();
        const long extStart = 22528;
        var first = _dir.ReadBytes("m.img", extStart * 512, 512);
        // EBR entry 2 (offset 0x1ce) is the link; its LBA start (entry offset 8) is relative to the extended start.
        uint secondRel = BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(0x1ce + 8));
        long loopingEbr = selfLoop ? extStart : extStart + secondRel;
        var link = new byte[16];
        link[4] = 0x05;                                                // type: extended
        BinaryPrimitives.WriteUInt32LittleEndian(link.AsSpan(8), 0);  // start: back to the first EBR
        BinaryPrimitives.WriteUInt32LittleEndian(link.AsSpan(12), 2048);
        _dir.Patch("m.img", loopingEbr * 512 + 0x1ce, link);

        var table = _dir.Read("m.img");

        Assert.NotNull(table);
        Assert.Contains(table.Warnings, w => w.Contains("loops", StringComparison.Ordinal));
        Assert.Equal(selfLoop ? new[] { 1, 2, 3, 5 } : [1, 2, 3, 5, 6], table.Partitions.Select(p => p.Number));
    }

    [Fact]
    public void EbrChainOfEmptyRecords_StopsAfterTheKernelBound()
    {
        // Hand-made: an extended partition whose EBRs hold only links, each to the next sector.
        var img = new byte[4 * 1024 * 1024];
        WriteEntry(img, 0, 0x0f, 1, 8000);
        img[510] = 0x55; img[511] = 0xaa;
        for (int s = 1; s < 8000; s++)
        {
            int off = s * 512;
            var e = img.AsSpan(off + 0x1ce, 16);
            e[4] = 0x05;
            BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)s); // next EBR: ext start (1) + s
            BinaryPrimitives.WriteUInt32LittleEndian(e[12..], 1);
            img[off + 510] = 0x55; img[off + 511] = 0xaa;
        }
        File.WriteAllBytes(_dir.File("chain.img"), img);

        var table = _dir.Read("chain.img");

        Assert.NotNull(table);
        Assert.Equal([1], table.Partitions.Select(p => p.Number));
        Assert.Contains(table.Warnings, w => w.Contains("without a partition", StringComparison.Ordinal));
    }

    [Fact]
    public void ProtectiveMbrAlone_IsReportedAsProtective()
    {
        _dir.Sh("truncate -s 8M g.img; echo 'label: gpt' | sfdisk -q g.img");
        using var reader = new FileBlockReader(_dir.File("g.img"));
        var mbr = MbrTable.TryRead(reader);
        Assert.NotNull(mbr);
        Assert.True(MbrTable.IsProtective(mbr));
        Assert.Equal("GPT", mbr.Partitions[0].TypeName);
    }

    private static void WriteEntry(byte[] sector, int index, byte type, uint start, uint size)
    {
        var e = sector.AsSpan(0x1be + 16 * index, 16);
        e[4] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], start);
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], size);
    }
}
