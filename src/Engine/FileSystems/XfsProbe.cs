using System.Numerics;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>XFS: big-endian superblock at offset 0 of AG 0.</summary>
public sealed class XfsProbe : SuperblockProbe
{
    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(0, 512);
        if (sb is null || !Matches(sb, 0, "XFSB")) return null;

        // A subset of xfs_verify_sb(): geometry fields must agree, which weeds out stray "XFSB" bytes.
        uint blockSize = Be32(sb, 4);
        ushort sectSize = Be16(sb, 102), inodeSize = Be16(sb, 104);
        if (!IsPowerOfTwo(blockSize) || blockSize < 512 || blockSize > 65536) return null;
        if (!IsPowerOfTwo(sectSize) || sectSize < 512 || sectSize > 32768) return null;
        if (!IsPowerOfTwo(inodeSize) || inodeSize < 256 || inodeSize > 2048) return null;
        if (sb[120] != BitOperations.Log2(blockSize) || sb[121] != BitOperations.Log2(sectSize)) return null;  // sb_blocklog, sb_sectlog
        if (Be32(sb, 84) == 0 || Be32(sb, 88) == 0) return null;        // sb_agblocks, sb_agcount

        string? label = Label(sb.AsSpan(108, 12));                       // sb_fname
        string? uuid = Uuid(sb.AsSpan(32, 16));                          // sb_uuid
        string version = (Be16(sb, 100) & 0xF).ToString(System.Globalization.CultureInfo.InvariantCulture);  // sb_versionnum low nibble
        // Whether the log holds changes a mount would replay (a crash-consistent backup): null when not known.
        bool dirty = XfsLog.IsDirty(device, sb) == true;
        return new FileSystemInfo("xfs", label, uuid, version) { JournalDirty = dirty };
    }
}
