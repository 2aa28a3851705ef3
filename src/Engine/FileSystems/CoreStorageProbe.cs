using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Apple Core Storage physical volume header ("CS" at 88, CRC32C-checked). A FileVault 2 one (block type
/// 0x10, AES-XTS) is "cs_fvault2" as libblkid 2.39+ names it; any other is reported as CoreStorage.
/// Layout from libblkid's cs_fvault2.c and libfvde's documentation. Named, not mounted.
/// </summary>
public sealed class CoreStorageProbe : SuperblockProbe
{
    private const int HeaderSize = 512;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? h = device.TryRead(0, HeaderSize);
        if (h is null || !Matches(h, 88, "CS")) return null;
        if (Le16(h, 8) != 1 || Le32(h, 90) != 1) return null;           // version 1, checksum type 1 (CRC32C)
        if (Crc32c(Le32(h, 4), h.AsSpan(8)) != Le32(h, 0)) return null;   // seeded by the header's own seed field
        string? uuid = Uuid(h.AsSpan(304, 16));                           // physical volume UUID
        string version = Le16(h, 8).ToString(CultureInfo.InvariantCulture);
        bool fileVault = Le16(h, 10) == 0x10 && Le32(h, 168) == 16 && Le32(h, 172) == 2;
        return fileVault
            ? new FileSystemInfo("cs_fvault2", null, uuid, version)
            {
                IsMountable = false,
                Reason = "Apple FileVault 2 (Core Storage): encrypted, needs its password or recovery key; not supported",
            }
            : new FileSystemInfo("CoreStorage", null, uuid, version)
            {
                IsMountable = false,
                Reason = "Apple Core Storage volume (Fusion Drive or converted disk): not supported",
            };
    }
}
