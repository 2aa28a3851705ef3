using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// VMware VMFS volume (LVM) header, magic 0xc001d00d at 1 MiB; blkid calls it VMFS_volume_member and takes
/// the UUID from the LVM info at 1 MiB + 532. Named, not mounted.
/// </summary>
public sealed class VmfsVolumeProbe : SuperblockProbe
{
    private const long HeaderOffset = 1024 * 1024, LvmUuidOffset = HeaderOffset + 512 + 20;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? h = device.TryRead(HeaderOffset, 146);
        if (h is null || Le32(h, 0) != 0xc001d00d) return null;
        string version = Le32(h, 4).ToString(CultureInfo.InvariantCulture);
        byte[]? lvm = device.TryRead(LvmUuidOffset, 35);
        string? uuid = lvm is null ? null : Label(lvm);                   // text, cut at NUL and trimmed
        return new FileSystemInfo("VMFS_volume_member", null, uuid, version) { IsMountable = false, Reason = VmfsProbe.NotSupported };
    }
}
