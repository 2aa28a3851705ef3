using System.Numerics;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>SquashFS: "hsqs" at 0. blkid calls major version 4 "squashfs" and older ones "squashfs3".</summary>
public sealed class SquashfsProbe : SuperblockProbe
{
    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(0, 96);
        if (sb is null) return null;

        bool le = Matches(sb, 0, "hsqs"), be = Matches(sb, 0, "sqsh");   // v3 also existed big-endian
        if (!le && !be) return null;
        int major = le ? Le16(sb, 28) : Be16(sb, 28), minor = le ? Le16(sb, 30) : Be16(sb, 30);  // s_major, s_minor
        string version = $"{major}.{minor}";

        if (le && major >= 4)
        {
            // v4: block_size (12) and block_log (22) must agree, which a stray "hsqs" will not.
            uint blockSize = Le32(sb, 12);
            if (!IsPowerOfTwo(blockSize) || blockSize < 4096 || blockSize > 1 << 20 || Le16(sb, 22) != BitOperations.Log2(blockSize))
                return null;
            return new FileSystemInfo("squashfs", Version: version);
        }
        if (major is < 1 or > 3) return null;
        return new FileSystemInfo("squashfs3", Version: version);
    }
}
