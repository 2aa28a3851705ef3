using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>FAT12/16/32 ("vfat"), following libblkid's vfat.c validity checks and label search.</summary>
public sealed class FatProbe : SuperblockProbe
{
    private const uint Fat12Max = 0xFF4, Fat16Max = 0xFFF4, Fat32Max = 0x0FFFFFF6;
    private const int DirEntrySize = 32;
    // Directory bytes the label search may read in all. blkid follows up to 100 root clusters, but a
    // hostile BPB (512 KiB clusters, a chain looping on itself) then costs 50 MiB per probe, and the
    // probe runs once per partition. A real label is among the first entries.
    private const int MaxLabelSearchBytes = 256 * 1024;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? bs = device.TryRead(0, 512);
        if (bs is null) return null;

        // blkid accepts one of the FAT type strings, or else only a boot sector with the 55AA signature.
        bool stringMagic = Matches(bs, 0x52, "MSWIN") || Matches(bs, 0x52, "FAT32   ") || Matches(bs, 0x36, "MSDOS")
                           || Matches(bs, 0x36, "FAT16   ") || Matches(bs, 0x36, "FAT12   ") || Matches(bs, 0x36, "FAT     ");
        if (!stringMagic)
        {
            if (bs[510] != 0x55 || bs[511] != 0xAA) return null;
            // OS/2 tools put a FAT-like BPB in front of JFS and HPFS.
            if (Matches(bs, 0x36, "JFS     ") || Matches(bs, 0x36, "HPFS    ")) return null;
        }
        if (Matches(bs, 3, "-FVE-FS-")) return null;                      // BitLocker keeps a FAT-ish BPB
        if (Matches(bs, 3, "MSWIN4.1") && BitLockerProbe.IsBitLocker(device)) return null;   // BitLocker To Go

        byte clusterSize = bs[13], fats = bs[16], media = bs[21];
        ushort sectorSize = Le16(bs, 11), reserved = Le16(bs, 14), dirEntries = Le16(bs, 17);
        if (fats == 0 || reserved == 0) return null;
        if (!(media >= 0xF8 || media == 0xF0)) return null;
        if (!IsPowerOfTwo(clusterSize)) return null;
        if (!IsPowerOfTwo(sectorSize) || sectorSize < 512 || sectorSize > 4096) return null;

        uint sectCount = Le16(bs, 19);                                    // 16-bit count, else the 32-bit one at 32
        if (sectCount == 0) sectCount = Le32(bs, 32);
        uint fatLength16 = Le16(bs, 22), fat32Length = Le32(bs, 36);
        uint fatLength = fatLength16 != 0 ? fatLength16 : fat32Length;
        uint fatSize = unchecked(fatLength * fats);                       // in sectors
        uint dirSize = (uint)((dirEntries * DirEntrySize + (sectorSize - 1)) / sectorSize);
        // Same unsigned arithmetic as blkid: an underflow yields a huge count that fails the max check.
        uint clusterCount = unchecked(sectCount - (reserved + fatSize + dirSize)) / clusterSize;
        uint maxCount = fatLength16 == 0 && fat32Length != 0 ? Fat32Max : clusterCount > Fat12Max ? Fat16Max : Fat12Max;
        if (clusterCount > maxCount) return null;

        string? volLabel = null;
        string? serial = null;
        string? version = null;

        if (fatLength16 != 0)
        {
            // FAT12/16: the fixed root directory follows the FATs.
            long rootStart = (long)(reserved + fatSize) * sectorSize;
            volLabel = SearchLabel(device, rootStart, Math.Min((int)dirEntries, MaxLabelSearchBytes / DirEntrySize));
            if (bs[38] == 0x29 || bs[38] == 0x28) serial = Serial(bs.AsSpan(39, 4));   // extended boot signature guards the serial
            version = clusterCount < Fat12Max ? "FAT12" : clusterCount < Fat16Max ? "FAT16" : null;
        }
        else if (fat32Length != 0)
        {
            // FAT32: the root directory is a cluster chain starting at BPB_RootClus (offset 44).
            uint bufSize = (uint)clusterSize * sectorSize;
            long startDataSect = reserved + (long)fatSize;
            ulong entries = (ulong)fat32Length * sectorSize / 4;
            uint next = Le32(bs, 44);
            int maxLoop = 100;
            long budget = MaxLabelSearchBytes;
            var seen = new HashSet<uint>();
            while (next != 0 && next < entries && --maxLoop > 0)
            {
                if (next < 2 || !seen.Add(next) || budget <= 0) break;       // a looping chain, or enough read
                long chunk = Math.Min(bufSize, budget);
                budget -= chunk;
                long off = (startDataSect + (long)(next - 2) * clusterSize) * sectorSize;
                volLabel = SearchLabel(device, off, (int)(chunk / DirEntrySize));
                if (volLabel is not null) break;
                byte[]? fatEntry = device.TryRead((long)reserved * sectorSize + (long)next * 4, 4);
                if (fatEntry is null) break;
                next = Le32(fatEntry, 0) & 0x0FFFFFFF;
            }
            version = "FAT32";
            serial = Serial(bs.AsSpan(67, 4));

            // The FSInfo sector must carry its signatures, or be all zero as some formatters leave it.
            ushort fsinfo = Le16(bs, 48);
            if (fsinfo != 0)
            {
                byte[]? fi = device.TryRead((long)fsinfo * sectorSize, 512);
                if (fi is null) return null;
                bool sig1 = Matches(fi, 0, "RRaA") || Matches(fi, 0, "RRdA") || Le32(fi, 0) == 0;
                bool sig2 = Matches(fi, 484, "rrAa") || Le32(fi, 484) == 0;
                if (!sig1 || !sig2) return null;
            }
        }

        // blkid's LABEL is the root-directory entry only: the boot-sector copy (LABEL_FATBOOT) is often stale,
        // since DOS/Windows relabel by rewriting just the directory entry. No entry means no LABEL.
        return new FileSystemInfo("vfat", volLabel, serial, version);
    }

    /// <summary>Volume serial printed high byte first: %02X%02X-%02X%02X of bytes 3,2,1,0.</summary>
    private static string Serial(ReadOnlySpan<byte> s) => $"{s[3]:X2}{s[2]:X2}-{s[1]:X2}{s[0]:X2}";

    /// <summary>The first live short entry with ATTR_VOLUME_ID and no ATTR_DIRECTORY, as search_fat_label().</summary>
    private static string? SearchLabel(IBlockReader device, long offset, int entries)
    {
        if (entries <= 0 || entries > 65536) return null;
        byte[]? dir = device.TryRead(offset, entries * DirEntrySize);
        if (dir is null) return null;
        for (int i = 0; i < entries; i++)
        {
            var ent = dir.AsSpan(i * DirEntrySize, DirEntrySize);
            if (ent[0] == 0x00) break;                                    // end of directory
            byte attr = ent[11];
            if (ent[0] == 0xE5 || Le16(ent, 20) != 0 || Le16(ent, 26) != 0 || (attr & 0x3F) == 0x0F)
                continue;                                                 // deleted, owns clusters, or an LFN slot
            if ((attr & (0x08 | 0x10)) == 0x08)
            {
                byte[] name = ent[..11].ToArray();
                if (name[0] == 0x05) name[0] = 0xE5;                      // 0x05 escapes a leading 0xE5
                return Label(name);
            }
        }
        return null;
    }
}
