using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Apple APFS container superblock ("NXSB" at 32, Fletcher-64 checked, 4 KiB blocks), as libblkid's apfs.c.
/// Named, not mounted: no Linux kernel reads APFS.
/// </summary>
public sealed class ApfsProbe : SuperblockProbe
{
    private const int BlockSize = 4096;
    internal const string NotSupported = "Apple APFS: no Linux kernel driver reads it; not supported";

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(0, BlockSize);
        if (sb is null || !Matches(sb, 32, "NXSB")) return null;
        if (Fletcher64(sb.AsSpan(8)) != Le64(sb, 0)) return null;
        // object type 1 (container superblock), subtype 0, padding 0, and the standard block size only.
        if (Le16(sb, 24) != 1 || Le16(sb, 28) != 0 || Le16(sb, 30) != 0 || Le32(sb, 36) != BlockSize) return null;
        return new FileSystemInfo("apfs", Uuid: Uuid(sb.AsSpan(72, 16))) { IsMountable = false, Reason = NotSupported };
    }

    /// <summary>APFS object checksum over little-endian 32-bit words, modulo 2^32 - 1.</summary>
    internal static ulong Fletcher64(ReadOnlySpan<byte> data)
    {
        ulong lo = 0, hi = 0;
        for (int i = 0; i + 4 <= data.Length; i += 4)
        {
            lo += Le32(data, i);
            hi += lo;
        }
        uint csumLow = ~(uint)((lo + hi) % uint.MaxValue);
        uint csumHigh = ~(uint)((lo + csumLow) % uint.MaxValue);
        return (ulong)csumHigh << 32 | csumLow;
    }
}
