using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>JFS (IBM): "JFS1" at 32 KiB, block sizes that agree with their log2 fields (libblkid's jfs.c).</summary>
public sealed class JfsProbe : SuperblockProbe
{
    private const long SuperblockOffset = 32 * 1024;
    private const long MinimumSize = 16 * 1024 * 1024;              // blkid skips smaller devices

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        if (device.Length < MinimumSize) return null;
        byte[]? sb = device.TryRead(SuperblockOffset, 0xA8);
        if (sb is null || !Matches(sb, 0, "JFS1")) return null;

        uint bsize = Le32(sb, 16), pbsize = Le32(sb, 24);
        ushort l2bsize = Le16(sb, 20), l2bfactor = Le16(sb, 22), l2pbsize = Le16(sb, 28);
        // blkid compares with C's 1U << n, which wraps the shift count at 32.
        if (bsize != 1u << (l2bsize & 31) || pbsize != 1u << (l2pbsize & 31)) return null;
        if ((ushort)(l2bsize - l2pbsize) != l2bfactor) return null;

        string? label = sb[0x98] != 0 ? Label(sb.AsSpan(0x98, 16)) : null;   // js_label
        return new FileSystemInfo("jfs", label, Uuid(sb.AsSpan(0x88, 16)));  // js_uuid
    }
}
