using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Windows dynamic disk (Logical Disk Manager): the "PRIVHEAD" private header, big-endian, version 2.x.
/// On an MBR disk (partition type 0x42) it is in sector 6 of the disk; on a GPT disk in the last sector of
/// the LDM metadata partition. Layout from the Linux kernel's block/partitions/ldm.c and libldm.
/// Named, not mounted: the volumes are described by the LDM database, which is not read.
/// </summary>
public sealed class LdmProbe : SuperblockProbe
{
    internal const string NotSupported =
        "Windows dynamic disk (LDM): its volumes are laid out by the LDM database, which is not read; not supported";
    private const int SectorSize = 512, MbrPrivheadSector = 6, HeaderBytes = 0x70;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? ph = device.TryRead(MbrPrivheadSector * SectorSize, HeaderBytes);
        if (!IsPrivhead(ph) && device.Length >= 2 * SectorSize)
            ph = device.TryRead((device.Length / SectorSize - 1) * SectorSize, HeaderBytes);
        if (!IsPrivhead(ph)) return null;

        string version = string.Create(CultureInfo.InvariantCulture, $"{Be16(ph!, 12)}.{Be16(ph!, 14)}");
        string? diskGuid = Label(ph.AsSpan(0x30, 0x40));                 // the disk's GUID, stored as text
        return new FileSystemInfo("windows_ldm", null, diskGuid?.ToLowerInvariant(), version)
        {
            IsMountable = false,
            Reason = NotSupported,
        };
    }

    private static bool IsPrivhead(byte[]? ph) => ph is not null && Matches(ph, 0, "PRIVHEAD") && Be16(ph, 12) == 2;
}
