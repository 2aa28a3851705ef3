using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Windows Storage Spaces pool member: the "SPACEDB " disk header at the start of the Storage Spaces
/// partition (GPT type e75caf8f-f680-4cee-afa3-b001e56efc2d), big-endian, the pool GUID at 0x20. Layout from
/// public reverse-engineering notes (no Microsoft specification exists). Named, not mounted.
/// </summary>
public sealed class StorageSpacesProbe : SuperblockProbe
{
    internal const string NotSupported =
        "Windows Storage Spaces pool member: its virtual disks are spread over the pool's disks; not supported";

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? h = device.TryRead(0, 0x40);
        if (h is null || !Matches(h, 0, "SPACEDB ")) return null;
        string version = Be16(h, 8).ToString(CultureInfo.InvariantCulture);
        return new FileSystemInfo("storage_spaces_member", null, Uuid(h.AsSpan(0x20, 16)), version)
        {
            IsMountable = false,
            Reason = NotSupported,
        };
    }
}
