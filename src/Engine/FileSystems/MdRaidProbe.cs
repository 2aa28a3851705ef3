using System.Buffers.Binary;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Linux MD RAID member: v0.90 at the end (64 KiB aligned), v1.0 at the end, v1.1 at 0, v1.2 at 4 KiB.</summary>
public sealed class MdRaidProbe : SuperblockProbe
{
    private const uint Magic = 0xa92b4efc;
    private const long ReservedBytes = 0x10000;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        long size = device.Length;
        if (size > ReservedBytes)
        {
            if (ProbeV0(device, (size & ~(ReservedBytes - 1)) - ReservedBytes) is { } v0) return v0;
            if (ProbeV1(device, (size & ~0xFFFL) - 0x2000, 0) is { } v10) return v10;
        }
        return ProbeV1(device, 0, 1) ?? ProbeV1(device, 0x1000, 2);
    }

    private static FileSystemInfo? ProbeV0(IBlockReader device, long off)
    {
        byte[]? sb = device.TryRead(off, 128);
        if (sb is null) return null;
        bool le = Le32(sb, 0) == Magic;
        if (!le && Be32(sb, 0) != Magic) return null;
        uint U32(int o) => le ? Le32(sb, o) : Be32(sb, o);

        uint major = U32(4), minor = U32(8), patch = U32(12);
        // size (32) is the per-device data size in KiB; the superblock must sit beyond it.
        ulong dataSize = (ulong)U32(32) << 10;
        if ((ulong)device.Length < dataSize + ReservedBytes || (ulong)off < dataSize) return null;

        // set_uuid0 (20) then set_uuid1..3 (52..60), each printed as big-endian bytes.
        var uuid = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(uuid, U32(20));
        if (minor >= 90)
        {
            BinaryPrimitives.WriteUInt32BigEndian(uuid.AsSpan(4), U32(52));
            BinaryPrimitives.WriteUInt32BigEndian(uuid.AsSpan(8), U32(56));
            BinaryPrimitives.WriteUInt32BigEndian(uuid.AsSpan(12), U32(60));
        }
        return new FileSystemInfo("linux_raid_member", null, Uuid(uuid), $"{major}.{minor}.{patch}") { IsMountable = false };
    }

    private static FileSystemInfo? ProbeV1(IBlockReader device, long off, int minor)
    {
        if (off < 0) return null;
        byte[]? sb = device.TryRead(off, 256);
        if (sb is null) return null;
        if (Le32(sb, 0) != Magic || Le32(sb, 4) != 1) return null;       // magic, major_version
        if (Le64(sb, 144) != (ulong)off >> 9) return null;               // super_offset, in sectors, must point here

        // sb_csum (216): 32-bit word sum of the 256-byte header plus 2 bytes per device role, folded to 32 bits.
        uint maxDev = Le32(sb, 220);
        if (maxDev > 1920) return null;                                   // more roles than the 4 KiB superblock holds
        byte[]? full = device.TryRead(off, 256 + (int)maxDev * 2);
        if (full is null) return null;
        if (Checksum(full) != Le32(sb, 216)) return null;

        string? uuid = Uuid(sb.AsSpan(16, 16));                           // set_uuid (device_uuid at 168 is UUID_SUB)
        string? label = Label(sb.AsSpan(32, 32));                         // set_name, "host:name"
        return new FileSystemInfo("linux_raid_member", label, uuid, $"1.{minor}") { IsMountable = false };
    }

    internal static uint Checksum(ReadOnlySpan<byte> sb)
    {
        ulong sum = 0;
        int i = 0;
        for (; i + 4 <= sb.Length; i += 4)
            sum += i == 216 ? 0 : Le32(sb, i);                            // the checksum field counts as zero
        if (sb.Length - i == 2) sum += Le16(sb, i);
        return (uint)((sum & 0xFFFFFFFF) + (sum >> 32));
    }
}
