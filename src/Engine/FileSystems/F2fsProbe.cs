using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>F2FS: superblock at 1 KiB (a copy at 5 KiB), magic 0xF2F52010, optional CRC32 over the superblock (libblkid's f2fs.c).</summary>
public sealed class F2fsProbe : SuperblockProbe
{
    private const long SuperblockOffset = 1024, SecondSuperblockOffset = 1024 + 4096;
    private const uint Magic = 0xF2F52010;
    private const int UuidOffset = 0x6C, VolumeNameOffset = 0x7C, VolumeNameBytes = 512 * 2;
    // The superblock lives in a 3 KiB area (1 KiB in front of it is the boot area of the 4 KiB block).
    private const int MaxChecksumOffset = 3072 - 4;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        // blkid reads only the first copy; when its checksum fails (libblkid 2.39+ checks it, 2.38 does not),
        // the kernel mounts from the second copy one 4 KiB block later, so that one is read too.
        foreach (long at in (long[])[SuperblockOffset, SecondSuperblockOffset])
        {
            byte[]? sb = device.TryRead(at, VolumeNameOffset + VolumeNameBytes);
            if (sb is null || Le32(sb, 0) != Magic) return null;
            ushort major = Le16(sb, 4), minor = Le16(sb, 6);
            if (major == 1 && minor == 0) return null;                   // 1.0 had another layout: blkid ignores it
            if (!ChecksumOk(device, at, Le32(sb, 0x20))) continue;

            string? label = sb[VolumeNameOffset] != 0
                ? Utf16Label(sb.AsSpan(VolumeNameOffset, VolumeNameBytes), bigEndian: false)
                : null;
            string version = string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}");
            return new FileSystemInfo("f2fs", label, Uuid(sb.AsSpan(UuidOffset, 16)), version);
        }
        return null;
    }

    /// <summary>checksum_offset 0 means no checksum (mkfs.f2fs without -O sb_checksum).</summary>
    private static bool ChecksumOk(IBlockReader device, long at, uint csumOffset)
    {
        if (csumOffset == 0) return true;
        if (csumOffset > MaxChecksumOffset) return false;
        byte[]? covered = device.TryRead(at, (int)csumOffset + 4);
        // f2fs_crc32: reflected 0xEDB88320, seeded with the magic, no final inversion.
        return covered is not null && Crc32(Magic, covered.AsSpan(0, (int)csumOffset)) == Le32(covered, (int)csumOffset);
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
