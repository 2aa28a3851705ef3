using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Btrfs: the primary superblock lives at 64 KiB.</summary>
public sealed class BtrfsProbe : SuperblockProbe
{
    private const long SuperblockOffset = 0x10000;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(SuperblockOffset, 4096);
        if (sb is null || !Matches(sb, 0x40, "_BHRfS_M")) return null;   // magic

        uint sectorSize = Le32(sb, 0x90), nodeSize = Le32(sb, 0x94);      // sectorsize, nodesize
        if (!IsPowerOfTwo(sectorSize) || sectorSize < 512 || sectorSize > 65536) return null;
        if (!IsPowerOfTwo(nodeSize) || nodeSize > 65536) return null;

        string? label = Label(sb.AsSpan(0x12B, 256));                    // label, after the 98-byte dev_item
        string? uuid = Uuid(sb.AsSpan(0x20, 16));                        // fsid (dev_item.uuid would be UUID_SUB)
        return new FileSystemInfo("btrfs", label, uuid)
        {
            DefaultSubvolume = DefaultSubvolume(device, sb),
            // log_root: fsync'd changes since the last commit wait in the log tree (a backup of a running VM).
            JournalDirty = Le64(sb, 0x60) != 0,
        };
    }

    /// <summary>A damaged tree loses only this, not the signature.</summary>
    private static string? DefaultSubvolume(IBlockReader device, byte[] sb)
    {
        try { return BtrfsTrees.DefaultSubvolume(device, sb); }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or System.Text.DecoderFallbackException)
        {
            return null;
        }
    }
}
