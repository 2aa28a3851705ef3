using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// UFS1/UFS2 (FreeBSD, Solaris, ...): fs_magic at superblock offset 1372, in either byte order. Version says
/// which ("2" for the UFS2 magic) and SuperblockOffset where: Linux reads UFS2 only at 64 KiB (ufstype=ufs2)
/// and UFS1 at 8 KiB (ufstype=44bsd), so the mounter needs both.
/// </summary>
public sealed class UfsProbe : SuperblockProbe
{
    private const uint Ufs2Magic = 0x19540119;
    // UFS1 and the historical variants libblkid also accepts.
    private static readonly uint[] Magics = [Ufs2Magic, 0x00011954, 0x00195612, 0x00095014, 0x00612195, 0x05231994];
    // Superblock locations in KiB that blkid tries: UFS2 lives at 64 KiB, UFS1 at 8 KiB.
    private static readonly int[] OffsetsKiB = [0, 8, 64, 256];
    private const int MagicOffset = 1372, FsIdOffset = 144, VolnameOffset = 680, SuperblockSize = 1376;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        foreach (int kib in OffsetsKiB)
        {
            byte[]? sb = device.TryRead(kib * 1024L, SuperblockSize);
            if (sb is null) return null;                                  // blkid stops at the first unreadable location
            uint le = Le32(sb, MagicOffset), be = Be32(sb, MagicOffset);
            foreach (uint magic in Magics)
            {
                if (le != magic && be != magic) continue;
                bool bigEndian = be == magic;
                string? label = null, version = "1";
                if (magic == Ufs2Magic)
                {
                    version = "2";
                    label = Label(sb.AsSpan(VolnameOffset, 32));         // fs_volname (UFS2 only)
                }
                // fs_id[2]: printed "%08x%08x" in the superblock's byte order; both zero means none.
                uint id0 = bigEndian ? Be32(sb, FsIdOffset) : Le32(sb, FsIdOffset);
                uint id1 = bigEndian ? Be32(sb, FsIdOffset + 4) : Le32(sb, FsIdOffset + 4);
                string? uuid = id0 != 0 || id1 != 0 ? string.Create(CultureInfo.InvariantCulture, $"{id0:x8}{id1:x8}") : null;
                return new FileSystemInfo("ufs", label, uuid, version) { SuperblockOffset = kib * 1024L };
            }
        }
        return null;
    }
}
