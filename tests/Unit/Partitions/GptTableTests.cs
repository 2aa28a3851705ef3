using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Partitions;

public sealed class GptTableTests : IDisposable
{
    private readonly ImageDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Three partitions in slots 1, 2 and 4 (slot 3 empty: numbering must keep the gap), with
    // names including a non-ASCII one.
    private void MakeGpt(string image = "d.img")
    {
        _dir.Sh($"""
            truncate -s 64M {image}
            sfdisk -q {image} <<'EOF'
            label: gpt
            {image}1 : start=2048, size=20480, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"
            {image}2 : size=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root fs"
            {image}4 : type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap ü"
            EOF
            """);
    }

    [Fact]
    public void ThreePartitionsWithNames_MatchSfdisk()
    {
        MakeGpt();
        var expected = Sfdisk.Json(_dir, "d.img");
        Assert.Equal([1, 2, 4], expected.Partitions.Select(p => p.Number));

        var table = _dir.Read("d.img");

        Sfdisk.AssertSame(expected, table);
        Assert.Empty(table!.Warnings);
        Assert.Equal(["EFI System", "Linux filesystem", "Linux swap"], table.Partitions.Select(p => p.TypeName));
        Assert.Equal("swap ü", table.Partitions[2].Name);
        Assert.Equal(20480L * 512, table.Partitions[0].SizeBytes);
    }

    [Fact]
    public void FourKSectors_FoundThroughA512Reader_AndThroughA4096Reader()
    {
        // sfdisk 2.38 has no --sector-size; fdisk -b 4096 writes a real 4Kn GPT into the file.
        _dir.Sh("""
            truncate -s 64M k.img
            printf 'g\nn\n1\n\n+5M\nn\n2\n\n+10M\nn\n4\n\n\nt\n1\n1\nx\nn\n2\nmy data\nr\nw\n' | fdisk -b 4096 k.img >/dev/null
            """);
        var expected = Sfdisk.FdiskGpt(_dir, "k.img", 4096);
        Assert.Equal(3, expected.Partitions.Count);

        var via512 = _dir.Read("k.img", 512);
        var via4096 = _dir.Read("k.img", 4096);

        Sfdisk.AssertSame(expected, via512);
        Sfdisk.AssertSame(expected, via4096);
        Assert.Equal(256L * 4096, via512!.Partitions[0].StartBytes);
        Assert.Equal("my data", via512.Partitions.Single(p => p.Number == 2).Name);
    }

    [Theory]
    [InlineData(512 + 8)]   // revision field: header CRC mismatch
    [InlineData(512 + 0)]   // signature: backup must be found at the last LBA
    [InlineData(512 + 24)]  // MyLBA field
    public void DamagedPrimaryHeader_ReadFromBackup_WithWarning(int offset)
    {
        MakeGpt();
        var expected = Sfdisk.Json(_dir, "d.img");
        _dir.Sh($"printf '\\x5a' | dd of=d.img bs=1 seek={offset} conv=notrunc status=none");

        var table = _dir.Read("d.img");

        Sfdisk.AssertSame(expected, table);
        Sfdisk.AssertSame(Sfdisk.Json(_dir, "d.img"), table); // sfdisk also falls back to the backup
        Assert.Contains(table!.Warnings, w => w.Contains("backup", StringComparison.Ordinal) && w.Contains("131071", StringComparison.Ordinal));
    }

    [Fact]
    public void BrokenEntryArrayCrc_FallsBackToBackup()
    {
        MakeGpt();
        var expected = Sfdisk.Json(_dir, "d.img");
        // First name character of entry 1 (entries at LBA 2, name at entry offset 56): "EFI" -> "XFI".
        _dir.Sh("printf 'X' | dd of=d.img bs=1 seek=$((1024 + 56)) conv=notrunc status=none");

        var table = _dir.Read("d.img");

        Sfdisk.AssertSame(expected, table); // names from the intact backup array
        Sfdisk.AssertSame(Sfdisk.Json(_dir, "d.img"), table);
        Assert.Contains(table!.Warnings, w => w.Contains("entry array CRC", StringComparison.Ordinal));
    }

    [Fact]
    public void DamagedBackupOnly_PrimaryUsed_WithWarning()
    {
        MakeGpt();
        var expected = Sfdisk.Json(_dir, "d.img");
        _dir.Patch("d.img", 131071L * 512 + 8, 0x5a);

        var table = _dir.Read("d.img");

        Sfdisk.AssertSame(expected, table);
        Assert.Contains(table!.Warnings, w => w.Contains("GPT backup header at LBA 131071 is damaged", StringComparison.Ordinal));
    }

    [Fact]
    public void BothHeadersDamaged_WithProtectiveMbr_ThrowsClearError()
    {
        MakeGpt();
        _dir.Patch("d.img", 512 + 8, 0x5a);
        _dir.Patch("d.img", 131071L * 512 + 8, 0x5a);

        var ex = Assert.Throws<InvalidDataException>(() => _dir.Read("d.img"));
        Assert.Contains("Protective MBR", ex.Message);
        Assert.Contains("header CRC mismatch", ex.Message);
    }

    [Fact]
    public void BothHeadersDamaged_WithoutMbr_StillThrows_BecauseSignatureSeen()
    {
        MakeGpt();
        _dir.Patch("d.img", 510, 0, 0); // no MBR signature any more
        _dir.Patch("d.img", 512 + 8, 0x5a);
        _dir.Patch("d.img", 131071L * 512 + 8, 0x5a);

        var ex = Assert.Throws<InvalidDataException>(() => _dir.Read("d.img"));
        Assert.Contains("GPT", ex.Message);
    }

    [Fact]
    public void GptWithoutProtectiveMbr_IsReadWithWarning()
    {
        MakeGpt();
        var expected = Sfdisk.Json(_dir, "d.img");
        _dir.Patch("d.img", 0, new byte[512]);

        var table = _dir.Read("d.img");

        Sfdisk.AssertSame(expected, table);
        Assert.Contains(table!.Warnings, w => w.Contains("protective MBR", StringComparison.Ordinal));
    }

    [Fact]
    public void TruncatedImage_PrimaryStillRead_WithWarnings()
    {
        MakeGpt();
        var expected = Sfdisk.Json(_dir, "d.img");
        _dir.Sh("truncate -s 40M d.img");

        var table = _dir.Read("d.img");

        Sfdisk.AssertSame(expected, table);
        Assert.Contains(table!.Warnings, w => w.Contains("truncated", StringComparison.Ordinal));
        Assert.Contains(table.Warnings, w => w.Contains("entry 4", StringComparison.Ordinal));
    }

    [Fact]
    public void GptTable_DirectCall_ReportsNoProblemOnBlankDisk()
    {
        _dir.Sh("truncate -s 1M z.img");
        using var reader = new FileBlockReader(_dir.File("z.img"));
        Assert.Null(GptTable.TryRead(reader, out var problem));
        Assert.Null(problem);
    }
}
