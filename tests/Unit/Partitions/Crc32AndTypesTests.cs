using System.Text;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Partitions;

public sealed class Crc32AndTypesTests
{
    [Fact]
    public void Crc32_KnownVector() => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void Crc32_EmptyIsZero() => Assert.Equal(0u, Crc32.Compute([]));

    [Fact]
    public void Crc32_AppendEqualsWhole()
    {
        var data = Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog");
        Assert.Equal(0x414FA339u, Crc32.Compute(data));
        Assert.Equal(Crc32.Compute(data), Crc32.Append(Crc32.Compute(data.AsSpan(0, 10)), data.AsSpan(10)));
    }

    [Theory]
    [InlineData("0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem")]
    [InlineData("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System")]
    [InlineData("e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM")]
    [InlineData("a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID")]
    [InlineData("4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)")]
    [InlineData("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data")]
    [InlineData("e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved")]
    [InlineData("de94bba4-06d1-4d40-a16a-bfd50179d6ac", "Windows recovery environment")]
    [InlineData("21686148-6449-6e6f-744e-656564454649", "BIOS boot")]
    [InlineData("516e7cb6-6ecf-11d6-8ff8-00022d09712b", "FreeBSD UFS")]
    [InlineData("516e7cba-6ecf-11d6-8ff8-00022d09712b", "FreeBSD ZFS")]
    [InlineData("6a898cc3-1dd2-11b2-99a6-080020736631", "Solaris /usr & Apple ZFS")]
    [InlineData("933ac7e1-2eb4-4f13-b844-0e14e2aef915", "Linux home")]
    [InlineData("3b8f8425-20e0-4f3b-907f-1a25a76f98e8", "Linux server data")]
    public void GptNames(string guid, string name) => Assert.Equal(name, PartitionTypes.GptName(guid));

    [Fact]
    public void UnknownGptType_HasNoName() => Assert.Null(PartitionTypes.GptName("01234567-89ab-cdef-0123-456789abcdef"));

    [Theory]
    [InlineData(0x83, "Linux")]
    [InlineData(0x82, "Linux swap / Solaris")]
    [InlineData(0x8e, "Linux LVM")]
    [InlineData(0xfd, "Linux raid autodetect")]
    [InlineData(0x07, "HPFS/NTFS/exFAT")]
    [InlineData(0x0b, "W95 FAT32")]
    [InlineData(0x0c, "W95 FAT32 (LBA)")]
    [InlineData(0x06, "FAT16")]
    [InlineData(0x0e, "W95 FAT16 (LBA)")]
    [InlineData(0x05, "Extended")]
    [InlineData(0x0f, "W95 Ext'd (LBA)")]
    [InlineData(0x85, "Linux extended")]
    [InlineData(0xef, "EFI (FAT-12/16/32)")]
    [InlineData(0xa5, "FreeBSD")]
    [InlineData(0xee, "GPT")]
    public void MbrNames(int type, string name) => Assert.Equal(name, PartitionTypes.MbrName((byte)type));

    [Fact]
    public void MbrTypeString_IsTwoDigitLowerHex() => Assert.Equal("0x0f", MbrTable.FormatType(0x0f));
}
