using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using static RestoreTools.Tests.Unit.FileSystems.ProbeTestSupport;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>
/// Formats that are named rather than mounted (BitLocker, ReFS, VMFS, Core Storage, LDM, Storage Spaces) and
/// HFS+, on the hand-built headers of NamedFormatImages. Where this machine's blkid (util-linux 2.38) knows the
/// format, its TYPE, LABEL, UUID and VERSION are the reference; cs_fvault2 came in 2.39, and LDM and Storage
/// Spaces are no blkid superblock types at all, so those are held to the values written.
/// </summary>
public sealed class NamedFormatProbeTests
{
    public static TheoryData<string, string, string?, string?, string?, bool> Cases() => new()
    {
        // format, type, label, uuid, version, blkid knows it
        { "bitlocker", "BitLocker", null, "0000000305419896", "2", true },
        { "bitlocker-negative-serial", "BitLocker", null, "-000000000000042", "2", true },
        { "bitlocker-togo", "BitLocker", null, null, "2", true },
        { "refs", "ReFS", null, null, null, true },
        { "vmfs", "VMFS", "datastore1", "019c3a5f-11223344-bbaa-ccddeeff0011", "6", true },
        { "vmfs-volume", "VMFS_volume_member", null, NamedFormatImages.VmfsLvmUuid, "6", true },
        { "cs-fvault2", "cs_fvault2", null, "8a1e2f3c-4d5b-6a79-80a1-b2c3d4e5f607", "1", false },
        { "corestorage", "CoreStorage", null, "8a1e2f3c-4d5b-6a79-80a1-b2c3d4e5f607", "1", false },
        { "ldm-mbr", "windows_ldm", null, NamedFormatImages.LdmDiskGuid, "2.12", false },
        { "ldm-gpt-metadata", "windows_ldm", null, NamedFormatImages.LdmDiskGuid, "2.12", false },
        { "storage-spaces", "storage_spaces_member", null, "11223344-5566-7788-9900-aabbccddeeff", "3", false },
        { "hfsplus", "hfsplus", "Macintosh HD", "de53349f-21ad-3c08-9044-ae10cd9587d3", null, true },
    };

    private static string Build(ProbeTempDir tmp, string format)
    {
        string img = tmp.File(format + ".img");
        CreateSparse(img, format switch { "bitlocker-togo" => 64 * 1024 * 1024, "ldm-gpt-metadata" => 1024 * 1024, _ => NamedFormatImages.Size });
        switch (format)
        {
            case "bitlocker": NamedFormatImages.WriteBitLocker(img, 305419896); break;
            case "bitlocker-negative-serial": NamedFormatImages.WriteBitLocker(img, unchecked((uint)-42)); break;
            case "bitlocker-togo": NamedFormatImages.MakeBitLockerToGo(img); break;
            case "refs": NamedFormatImages.WriteRefs(img); break;
            case "vmfs": NamedFormatImages.WriteVmfs(img, "datastore1"); break;
            case "vmfs-volume": NamedFormatImages.WriteVmfsVolume(img); break;
            case "cs-fvault2": NamedFormatImages.WriteCoreStorage(img, fileVault: true); break;
            case "corestorage": NamedFormatImages.WriteCoreStorage(img, fileVault: false); break;
            case "ldm-mbr": NamedFormatImages.WriteLdmPrivhead(img, lastSector: false); break;
            case "ldm-gpt-metadata": NamedFormatImages.WriteLdmPrivhead(img, lastSector: true); break;
            case "storage-spaces": NamedFormatImages.WriteStorageSpaces(img); break;
            case "hfsplus": NamedFormatImages.WriteHfsPlus(img, "Macintosh HD"); break;
            default: throw new ArgumentOutOfRangeException(nameof(format));
        }
        return img;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProbeNamesTheFormat(string format, string type, string? label, string? uuid, string? version, bool blkidKnows)
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
        Assert.Single(FileSystemProber.DefaultProbes, p => p.Probe(reader) is not null);
        bool mountable = type == "hfsplus";
        Assert.Equal(mountable, info.IsMountable);
        if (!mountable) Assert.False(string.IsNullOrWhiteSpace(info.Reason));

        var blkid = Blkid(img);
        if (!blkidKnows)
        {
            Assert.Empty(blkid);
            return;
        }
        Assert.Equal(type, blkid.GetValueOrDefault("TYPE"));
        Assert.Equal(blkid.GetValueOrDefault("LABEL"), info.Label);
        Assert.Equal(blkid.GetValueOrDefault("UUID"), info.Uuid);
        Assert.Equal(blkid.GetValueOrDefault("VERSION"), info.Version);
    }

    [Fact]
    public void BitLockerReasonSaysWhatToDo()
    {
        using var tmp = new ProbeTempDir();
        using var reader = new FileBlockReader(Build(tmp, "bitlocker"));
        Assert.Equal("BitLocker: encrypted, needs its recovery key; not supported", FileSystemProber.Default.Probe(reader)?.Reason);
    }

    /// <summary>The To Go header sits on a FAT32 that mkfs.vfat made: blkid's vfat probe defers to BitLocker, and so must ours.</summary>
    [Fact]
    public void FatDefersToBitLockerToGo()
    {
        using var tmp = new ProbeTempDir();
        using var reader = new FileBlockReader(Build(tmp, "bitlocker-togo"));
        Assert.Null(new FatProbe().Probe(reader));
    }

    /// <summary>A damaged checksum means no Core Storage header (APFS's Fletcher-64 is covered by the mkapfs image).</summary>
    [Fact]
    public void CoreStorageChecksumIsChecked()
    {
        using var tmp = new ProbeTempDir();
        string img = Build(tmp, "cs-fvault2");
        WriteAt(img, 304, [0x42]);
        using var reader = new FileBlockReader(img);
        Assert.Null(new CoreStorageProbe().Probe(reader));
    }
}
