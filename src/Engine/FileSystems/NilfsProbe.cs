using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// NILFS2: a superblock at 1 KiB and a backup in the last 4 KiB-aligned sector group; each is valid when its
/// magic, device size and CRC32 agree, and the newer valid one wins (libblkid's nilfs.c).
/// </summary>
public sealed class NilfsProbe : SuperblockProbe
{
    private const long PrimaryOffset = 1024, MinimumSize = 1024 * 1024;
    private const int SuperblockSize = 1024, SumOffset = 16, SeedOffset = 12;
    private const ushort Magic = 0x3434;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        if (device.Length < MinimumSize) return null;
        long backupOffset = (device.Length / 512 - 8) * 512;
        byte[]? primary = device.TryRead(PrimaryOffset, SuperblockSize);
        byte[]? backup = device.TryRead(backupOffset, SuperblockSize);
        if (primary is null || backup is null) return null;

        bool okPrimary = Valid(primary, device.Length), okBackup = Valid(backup, device.Length);
        if (!okPrimary && !okBackup) return null;
        // s_last_cno: the backup wins when the primary is bad or older.
        bool useBackup = okBackup && (!okPrimary || Le64(primary, 0x38) > Le64(backup, 0x38));
        byte[] sb = useBackup ? backup : primary;

        string? label = sb[0xA8] != 0 ? Label(sb.AsSpan(0xA8, 80)) : null;   // s_volume_name
        string version = Le32(sb, 0).ToString(CultureInfo.InvariantCulture);  // s_rev_level
        return new FileSystemInfo("nilfs2", label, Uuid(sb.AsSpan(0x98, 16)), version);
    }

    private static bool Valid(byte[] sb, long deviceSize)
    {
        if (Le16(sb, 6) != Magic) return false;
        if (Le64(sb, 0x20) != (ulong)deviceSize) return false;            // s_dev_size
        int bytes = Le16(sb, 8);                                          // s_bytes: the length the CRC covers
        if (bytes < SumOffset + 4 || bytes > SuperblockSize) return false;
        // crc32_le seeded with s_crc_seed, s_sum itself counted as zero.
        uint crc = Crc32(Le32(sb, SeedOffset), sb.AsSpan(0, SumOffset));
        crc = Crc32(crc, [0, 0, 0, 0]);
        crc = Crc32(crc, sb.AsSpan(SumOffset + 4, bytes - SumOffset - 4));
        return crc == Le32(sb, SumOffset);
    }

    private static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return crc;
    }
}
