using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>EROFS: little-endian superblock at 1024.</summary>
public sealed class ErofsProbe : SuperblockProbe
{
    private const long SuperblockOffset = 1024;
    private const uint Magic = 0xE0F5E1E2;
    private const uint CompatSbChecksum = 0x1;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(SuperblockOffset, 128);
        if (sb is null || Le32(sb, 0) != Magic) return null;
        byte blkszbits = sb[12];                                          // block size = 1 << blkszbits
        if (blkszbits < 9 || blkszbits > 16) return null;

        // With feature_compat SB_CHKSUM, checksum (4) is crc32c(~0) over the rest of the first block
        // from the superblock on, with the checksum field zeroed (what the kernel and newer blkid verify).
        if ((Le32(sb, 8) & CompatSbChecksum) != 0)
        {
            int blockSize = 1 << blkszbits;
            if (blockSize <= SuperblockOffset) return null;
            byte[]? block = device.TryRead(SuperblockOffset, blockSize - (int)SuperblockOffset);
            if (block is null) return null;
            uint stored = Le32(block, 4);
            block.AsSpan(4, 4).Clear();
            if (Crc32c(~0u, block) != stored) return null;
        }

        string? uuid = Uuid(sb.AsSpan(48, 16));                           // uuid
        string? label = Label(sb.AsSpan(64, 16));                         // volume_name
        return new FileSystemInfo("erofs", label, uuid);
    }
}
