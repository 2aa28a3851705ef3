using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>NTFS: boot sector BPB, then the $Volume MFT record (number 3) for the label.</summary>
public sealed class NtfsProbe : SuperblockProbe
{
    private const int MaxClusterSize = 2 * 1024 * 1024;
    private const uint AttrVolumeName = 0x60, AttrEnd = 0xFFFFFFFF;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? bs = device.TryRead(0, 512);
        if (bs is null || !Matches(bs, 3, "NTFS    ")) return null;      // OEM id

        ushort sectorSize = Le16(bs, 11);
        if (sectorSize < 256 || sectorSize > 4096 || !IsPowerOfTwo(sectorSize)) return null;

        // sectors_per_cluster: a power of two up to 128, or 240..249 meaning 2^(256-n).
        byte spcRaw = bs[13];
        uint sectorsPerCluster;
        if (spcRaw is 1 or 2 or 4 or 8 or 16 or 32 or 64 or 128) sectorsPerCluster = spcRaw;
        else if (spcRaw is >= 240 and <= 249) sectorsPerCluster = 1u << (256 - spcRaw);
        else return null;
        if ((long)sectorSize * spcRaw > MaxClusterSize) return null;      // blkid multiplies the raw byte

        // The FAT-era BPB fields NTFS leaves unused must be zero.
        if (Le16(bs, 14) != 0 || bs[16] != 0 || Le16(bs, 17) != 0 || Le16(bs, 19) != 0 || Le16(bs, 22) != 0 || Le32(bs, 32) != 0)
            return null;

        sbyte cpmr = unchecked((sbyte)bs[64]);                              // clusters_per_mft_record
        byte cpmrRaw = bs[64];
        if (cpmrRaw < 0xE1 || cpmrRaw > 0xF7)
        {
            if (cpmrRaw is not (1 or 2 or 4 or 8 or 16 or 32 or 64)) return null;
        }

        long clusterSize = sectorsPerCluster * sectorSize;
        long mftRecordSize = cpmr > 0 ? cpmr * clusterSize : 1L << -cpmr;
        if (mftRecordSize < 256 || mftRecordSize > 65536) return null;

        ulong mftCluster = Le64(bs, 48), mftMirror = Le64(bs, 56);
        ulong nrClusters = Le64(bs, 40) / sectorsPerCluster;              // number_of_sectors
        if (mftCluster > nrClusters || mftMirror > nrClusters) return null;

        // Both counts come from the boot sector: the $MFT record 3 must still lie at a byte offset a long can hold.
        if (mftCluster > (ulong)((long.MaxValue - 4 * 65536L) / clusterSize)) return null;
        long mftOffset = (long)mftCluster * clusterSize;
        byte[]? mft0 = device.TryRead(mftOffset, (int)mftRecordSize);
        if (mft0 is null || !Matches(mft0, 0, "FILE")) return null;     // $MFT's own record

        string? label = null;
        byte[]? vol = device.TryRead(mftOffset + 3 * mftRecordSize, (int)mftRecordSize);
        if (vol is null || !Matches(vol, 0, "FILE")) return null;
        label = VolumeName(vol);

        string uuid = Le64(bs, 72).ToString("X16", System.Globalization.CultureInfo.InvariantCulture);  // volume_serial
        return new FileSystemInfo("ntfs", label, uuid);
    }

    /// <summary>Walks the attribute list of $Volume for the resident $VOLUME_NAME (UTF-16LE).</summary>
    private static string? VolumeName(byte[] rec)
    {
        uint attrOff = Le16(rec, 0x14);                                   // attrs_offset
        uint bytesAllocated = Le32(rec, 0x1C);
        while (attrOff + 24 <= rec.Length && attrOff <= bytesAllocated)
        {
            uint type = Le32(rec, (int)attrOff), len = Le32(rec, (int)attrOff + 4);
            if (len == 0 || type == AttrEnd) break;
            if (type == AttrVolumeName)
            {
                uint valLen = Le32(rec, (int)attrOff + 16), valOff = Le16(rec, (int)attrOff + 20);
                if ((ulong)attrOff + valOff + valLen <= (ulong)rec.Length)
                    return Utf16Label(rec.AsSpan((int)(attrOff + valOff), (int)valLen), bigEndian: false);
                return null;
            }
            if (attrOff + (ulong)len > uint.MaxValue) break;
            attrOff += len;
        }
        return null;
    }
}
