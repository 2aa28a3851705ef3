using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Partitions;

public sealed class PartitionTableReaderTests : IDisposable
{
    private readonly ImageDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AllZeroDisk_HasNoTable()
    {
        _dir.Sh("truncate -s 64M z.img");
        Assert.Null(_dir.Read("z.img"));
        Assert.Null(_dir.Read("z.img", 4096));
    }

    [Fact]
    public void TinyAndEmptyImages_HaveNoTable()
    {
        _dir.Sh("truncate -s 0 e.img; truncate -s 700 t.img");
        // FileBlockReader takes length 0 as "ask the block device", so give the empty file's length.
        using (var empty = new FileBlockReader(_dir.File("e.img"), 512, length: 0))
            Assert.Null(PartitionTableReader.Read(empty));
        Assert.Null(_dir.Read("t.img"));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    [InlineData(5, true)]
    public void RandomGarbage_GivesNullTableOrClearError_NeverACrash(int seed, bool withMbrSignature)
    {
        var rnd = new Random(seed);
        var img = new byte[2 * 1024 * 1024];
        rnd.NextBytes(img);
        if (withMbrSignature)
        {
            // Make the garbage pass the first MBR checks so the entry and EBR code sees random values.
            img[510] = 0x55; img[511] = 0xaa;
            for (int i = 0; i < 4; i++) img[0x1be + 16 * i] = 0;
            img[0x1be + 4] = 0x05; // an extended partition pointing at random places
        }
        File.WriteAllBytes(_dir.File("r.img"), img);

        foreach (int ss in new[] { 512, 4096 })
        {
            try
            {
                var table = _dir.Read("r.img", ss);
                if (withMbrSignature) Assert.Equal("dos", table?.Label);
                else Assert.Null(table);
            }
            catch (InvalidDataException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            }
        }
    }

    [Fact]
    public void RandomGarbageWithGptSignature_ThrowsClearError()
    {
        var img = new byte[2 * 1024 * 1024];
        new Random(7).NextBytes(img);
        "EFI PART"u8.CopyTo(img.AsSpan(512));
        File.WriteAllBytes(_dir.File("r.img"), img);

        var ex = Assert.Throws<InvalidDataException>(() => _dir.Read("r.img"));
        Assert.Contains("GPT", ex.Message);
    }

    [Theory]
    [InlineData("mkfs.vfat -F 32 -C fs.img 65536 >/dev/null")]
    [InlineData("truncate -s 32M fs.img; mkfs.ntfs -F -Q -q fs.img")]
    [InlineData("truncate -s 32M fs.img; mkfs.ext4 -q fs.img")]
    public void WholeDiskFilesystem_HasNoTable(string mkfs)
    {
        _dir.Sh(mkfs);
        Assert.Null(_dir.Read("fs.img"));
    }

    [Fact]
    public void StaleBackupGptBehindDosTable_DosWins()
    {
        // A GPT disk re-labelled DOS by a tool that kept the last 33 sectors (backup GPT).
        _dir.Sh("""
            truncate -s 64M d.img
            echo 'label: gpt
            type=L' | sfdisk -q d.img
            truncate -s 64M m.img
            echo 'label: dos
            type=83' | sfdisk -q m.img
            dd if=d.img of=m.img bs=512 skip=131039 seek=131039 count=33 conv=notrunc status=none
            """);
        var expected = Sfdisk.Json(_dir, "m.img");

        var table = _dir.Read("m.img");

        Sfdisk.AssertSame(expected, table);
        Assert.Contains(table!.Warnings, w => w.Contains("stale backup GPT", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadsThroughASlice()
    {
        // A disk image inside a larger file (e.g. a raw disk at an offset in a container).
        _dir.Sh("""
            truncate -s 32M d.img
            echo 'label: gpt
            size=8M, name="inner"' | sfdisk -q d.img
            truncate -s 1M pad.img
            cat pad.img d.img > outer.img
            """);
        var expected = Sfdisk.Json(_dir, "d.img");
        using var outer = new FileBlockReader(_dir.File("outer.img"));
        var table = PartitionTableReader.Read(new SliceBlockReader(outer, 1024 * 1024, 32 * 1024 * 1024));
        Sfdisk.AssertSame(expected, table);
    }
}
