using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Minix v1/v2 (magic at 1 KiB + 16, either byte order) and v3 (magic at 1 KiB + 24), as libblkid's minix.c.</summary>
public sealed class MinixProbe : SuperblockProbe
{
    private const long SuperblockOffset = 1024;
    private const int BlockSize = 1024;
    private const ushort V1 = 0x137F, V1Long = 0x138F, V2 = 0x2468, V2Long = 0x2478, V3 = 0x4D5A;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(SuperblockOffset, 32);
        if (sb is null) return null;

        int version = VersionOf(Le16(sb, 16)), swapped = 0;
        if (version == 0 && Le16(sb, 24) == V3) version = 3;
        if (version == 0)
        {
            version = VersionOf(Be16(sb, 16));
            swapped = version;
        }
        if (version == 0) return null;

        if (version <= 2)
        {
            bool be = swapped != 0;
            ushort U16(int o) => be ? Be16(sb, o) : Le16(sb, o);
            int imaps = U16(4), zmaps = U16(6);
            if (imaps == 0 || zmaps == 0) return null;
            // blkid keeps these in a C int: a v2 zone count over 2^31 goes negative there, as here.
            int zones = version == 2 ? unchecked((int)(be ? Be32(sb, 20) : Le32(sb, 20))) : U16(2);
            int ninodes = U16(0), firstZone = U16(8);
            // The bitmaps must cover every inode and every data zone.
            if ((long)imaps * BlockSize * 8 < ninodes + 1) return null;
            if ((long)zmaps * BlockSize * 8 < (long)zones - firstZone + 1) return null;
        }
        else if (Le16(sb, 6) == 0 || Le16(sb, 8) == 0)
        {
            return null;                                                  // v3: s_imap_blocks, s_zmap_blocks
        }

        // Parts of an ext2/3/4 superblock can look like minix: its magic rules minix out.
        if (device.TryRead(SuperblockOffset + 0x38, 2) is [0x53, 0xEF]) return null;
        return new FileSystemInfo("minix", Version: version.ToString(CultureInfo.InvariantCulture));
    }

    private static int VersionOf(ushort magic) => magic switch
    {
        V1 or V1Long => 1,
        V2 or V2Long => 2,
        _ => 0,
    };
}
