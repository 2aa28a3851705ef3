using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>exFAT: main boot region checks as libblkid's exfat.c, label from the root directory.</summary>
public sealed class ExfatProbe : SuperblockProbe
{
    private const byte EntryEod = 0x00, EntryLabel = 0x83;
    private const uint FirstDataCluster = 2, LastDataCluster = 0x0FFFFFF6;
    private const int EntrySize = 32, MaxEntries = 10000, ReadBlock = 4096;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? bs = device.TryRead(0, 512);
        if (bs is null || !Matches(bs, 3, "EXFAT   ")) return null;      // FileSystemName
        if (Le16(bs, 510) != 0xAA55) return null;
        if (bs.AsSpan(11, 53).ContainsAnyExcept((byte)0)) return null;   // MustBeZero covers the FAT BPB

        byte bpsShift = bs[108], spcShift = bs[109], nfats = bs[110];
        uint fatOffset = Le32(bs, 80), fatLength = Le32(bs, 84), heapOffset = Le32(bs, 88);
        uint clusterCount = Le32(bs, 92), rootCluster = Le32(bs, 96);
        if (nfats is not (1 or 2)) return null;
        if (bpsShift < 9 || bpsShift > 12) return null;
        if (spcShift > 25 - bpsShift) return null;
        if (fatOffset < 24) return null;
        if (heapOffset < fatOffset + (ulong)fatLength * nfats) return null;
        if (rootCluster < 2 || rootCluster > (ulong)clusterCount + 1) return null;
        if (!BootChecksumValid(device, bpsShift)) return null;

        string uuid = $"{bs[103]:X2}{bs[102]:X2}-{bs[101]:X2}{bs[100]:X2}";   // VolumeSerialNumber, printed high byte first
        string version = $"{bs[105]}.{bs[104]}";                          // FileSystemRevision major.minor
        string? label = FindLabel(device, bpsShift, spcShift, fatOffset, heapOffset, rootCluster);
        return new FileSystemInfo("exfat", label, uuid, version);
    }

    /// <summary>Sector 11 repeats the checksum of sectors 0..10 (skipping VolumeFlags and PercentInUse).</summary>
    private static bool BootChecksumValid(IBlockReader device, int bpsShift)
    {
        int sectorSize = 1 << bpsShift;
        byte[]? region = device.TryRead(0, sectorSize * 12);
        if (region is null) return false;
        uint sum = 0;
        for (int i = 0; i < sectorSize * 11; i++)
        {
            if (i is 106 or 107 or 112) continue;
            sum = ((sum << 31) | (sum >> 1)) + region[i];
        }
        return Le32(region, sectorSize * 11) == sum;
    }

    private static string? FindLabel(IBlockReader device, int bpsShift, int spcShift, uint fatOffset, uint heapOffset, uint cluster)
    {
        long clusterSize = 1L << (bpsShift + spcShift);
        long ClusterOffset(uint c) => (heapOffset + ((long)(c - 2) << spcShift)) << bpsShift;
        long offset = ClusterOffset(cluster);
        // Entries are read a block at a time into one buffer: the probe runs on every partition, and
        // 10000 separate 32-byte reads each was the most a hostile root directory could ask of it.
        var block = new byte[ReadBlock];
        long blockStart = -1, blockEnd = -1;
        var seen = new HashSet<uint> { cluster };
        for (int i = 0; i < MaxEntries; i++)
        {
            if (offset < blockStart || offset + EntrySize > blockEnd)
            {
                int want = (int)Math.Min(ReadBlock, clusterSize - offset % clusterSize);
                if (!ReadExactly(device, offset, block.AsSpan(0, want))) return null;
                blockStart = offset;
                blockEnd = offset + want;
            }
            var entry = block.AsSpan((int)(offset - blockStart), EntrySize);
            if (entry[0] == EntryEod) return null;
            if (entry[0] == EntryLabel)
            {
                int chars = Math.Min(entry[1] * 2, 22);                  // CharacterCount, at most 11 UTF-16 units
                return Utf16Label(entry.Slice(2, chars), bigEndian: false);
            }
            offset += EntrySize;
            if (offset % clusterSize == 0)
            {
                byte[]? next = device.TryRead(((long)fatOffset << bpsShift) + (long)cluster * 4, 4);
                if (next is null) return null;
                cluster = Le32(next, 0);
                if (cluster < FirstDataCluster || cluster > LastDataCluster || !seen.Add(cluster)) return null;
                offset = ClusterOffset(cluster);
                blockStart = blockEnd = -1;
            }
        }
        return null;
    }

    private static bool ReadExactly(IBlockReader device, long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset + buffer.Length > device.Length) return false;
        for (int done = 0; done < buffer.Length;)
        {
            int n = device.ReadAt(offset + done, buffer[done..]);
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }
}
