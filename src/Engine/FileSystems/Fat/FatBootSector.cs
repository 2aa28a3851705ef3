using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>The geometry of a FAT volume read from its boot sector (BPB), checked for consistency.</summary>
internal sealed class FatBootSector
{
    // Highest cluster counts of FAT12 and FAT16 (Microsoft's spec and Linux's MAX_FAT12/MAX_FAT16).
    private const long MaxFat12Clusters = 4084, MaxFat16Clusters = 65524, MaxFat32Clusters = 0x0FFFFFF5;

    public int Bits { get; private init; }              // 12, 16 or 32
    public int SectorSize { get; private init; }
    public int ClusterSize { get; private init; }
    public long TotalClusters { get; private init; }
    /// <summary>Highest valid cluster number: clusters are 2..MaxCluster.</summary>
    public uint MaxCluster => (uint)(TotalClusters + 1);
    public long FatOffset { get; private init; }        // byte offset of the FAT copy in use
    public long FatBytes { get; private init; }         // bytes of one FAT copy
    public long RootOffset { get; private init; }       // FAT12/16: byte offset of the fixed root region
    public int RootEntries { get; private init; }       // FAT12/16: entries in it
    public uint RootCluster { get; private init; }      // FAT32: first cluster of the root chain
    public long DataOffset { get; private init; }       // byte offset of cluster 2
    public string? BootLabel { get; private init; }

    public string Kind => $"FAT{Bits}";

    /// <summary>Byte offset of a data cluster (2..MaxCluster).</summary>
    public long ClusterOffset(uint cluster) => DataOffset + (long)(cluster - 2) * ClusterSize;

    public static FatBootSector Read(IBlockReader device)
    {
        byte[] bs = device.TryRead(0, 512) ?? throw Bad("the device is shorter than a boot sector");

        int sectorSize = Le16(bs, 11);
        int secPerClus = bs[13];
        int reserved = Le16(bs, 14);
        int fats = bs[16];
        int rootEntries = Le16(bs, 17);
        byte media = bs[21];
        long fatSize16 = Le16(bs, 22), fatSize32 = Le32(bs, 36);
        long totalSectors = Le16(bs, 19);
        if (totalSectors == 0) totalSectors = Le32(bs, 32);

        // Linux's fat_read_bpb checks, in its order.
        if (reserved == 0) throw Bad("the boot sector has no reserved sectors");
        if (fats == 0) throw Bad("the boot sector has no FAT copies");
        if (!(media >= 0xF8 || media == 0xF0)) throw Bad($"invalid media descriptor 0x{media:X2}");
        if (!IsPowerOfTwo((ulong)sectorSize) || sectorSize < 512 || sectorSize > 4096)
            throw Bad($"invalid sector size {sectorSize}");
        if (!IsPowerOfTwo((ulong)secPerClus)) throw Bad($"invalid sectors per cluster {secPerClus}");

        // A FAT32 BPB (16-bit FAT size zero) is FAT32 whatever its cluster count, as Linux reads it:
        // mkfs.fat -F 32 -S 4096 makes volumes below Microsoft's 65525-cluster threshold.
        bool fat32 = fatSize16 == 0 && fatSize32 != 0;
        long fatSize = fat32 ? fatSize32 : fatSize16;
        if (fatSize == 0) throw Bad("the boot sector gives no FAT size");
        if (totalSectors == 0) throw Bad("the boot sector gives no sector count");

        int entriesPerSector = sectorSize / 32;
        if (!fat32)
        {
            if (rootEntries == 0) throw Bad("a FAT12/16 boot sector with no root folder entries");
            if (rootEntries % entriesPerSector != 0) throw Bad($"root folder entries {rootEntries} do not fill whole sectors");
        }
        else rootEntries = 0;

        long rootSectors = rootEntries / entriesPerSector;
        long fatStart = reserved;
        long rootStart = fatStart + fats * fatSize;
        long dataStart = rootStart + rootSectors;
        if (dataStart >= totalSectors) throw Bad($"the data area starts at sector {dataStart}, past the volume's {totalSectors} sectors");
        long clusters = (totalSectors - dataStart) / secPerClus;
        if (clusters == 0) throw Bad("the volume has no data clusters");

        int bits = fat32 ? 32 : clusters <= MaxFat12Clusters ? 12 : 16;
        // As Linux, clusters the FAT has no entries for do not exist.
        long fatBytes = fatSize * sectorSize;
        long fatEntries = fatBytes * 8 / bits;
        clusters = Math.Min(clusters, fatEntries - 2);
        long max = bits switch { 12 => MaxFat12Clusters, 16 => MaxFat16Clusters, _ => MaxFat32Clusters };
        if (clusters <= 0) throw Bad("the FAT is too small for any cluster");
        if (clusters > max) throw Bad($"{clusters} clusters is too many for FAT{bits}");

        long activeFat = 0;
        uint rootCluster = 0;
        string? label;
        if (fat32)
        {
            ushort extFlags = Le16(bs, 40);
            if ((extFlags & 0x80) != 0)
            {
                // Mirroring off: only the FAT numbered in the low bits is up to date.
                activeFat = extFlags & 0x0F;
                if (activeFat >= fats) throw Bad($"the active FAT {activeFat} does not exist (the volume has {fats})");
            }
            rootCluster = Le32(bs, 44);
            if (rootCluster < 2 || rootCluster > clusters + 1) throw Bad($"the root folder cluster {rootCluster} is outside the data area");
            label = bs[66] == 0x29 ? BootLabelOf(bs.AsSpan(71, 11)) : null;
        }
        else label = bs[38] == 0x29 ? BootLabelOf(bs.AsSpan(43, 11)) : null;

        int clusterSize = secPerClus * sectorSize;
        return new FatBootSector
        {
            Bits = bits,
            SectorSize = sectorSize,
            ClusterSize = clusterSize,
            TotalClusters = clusters,
            FatOffset = (fatStart + activeFat * fatSize) * sectorSize,
            FatBytes = fatBytes,
            RootOffset = rootStart * sectorSize,
            RootEntries = rootEntries,
            RootCluster = rootCluster,
            DataOffset = dataStart * sectorSize,
            BootLabel = label,
        };
    }

    /// <summary>An 11-byte label field: codepage 437, trailing spaces cut; "NO NAME" and blank mean none.</summary>
    public static string? BootLabelOf(ReadOnlySpan<byte> raw)
    {
        string s = FatShortName.DecodeCp437(raw).TrimEnd(' ', '\0');
        return s.Length == 0 || s == "NO NAME" ? null : s;
    }

    private static InvalidDataException Bad(string why) => new($"Not a usable FAT volume: {why}.");
}
