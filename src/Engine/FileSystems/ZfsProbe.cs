using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// ZFS vdev: four 256 KiB labels (two at the start, two at the end), each with an uberblock ring at 128 KiB
/// and an XDR nvlist at 16 KiB. Like libblkid, at least four uberblocks with the magic must be found.
/// </summary>
public sealed class ZfsProbe : SuperblockProbe
{
    private const long LabelSize = 256 * 1024, UberblockRing = 128 * 1024, NvlistOffset = 16 * 1024;
    private const int UberblockSize = 1024, UberblockCount = 128, Wanted = 4;
    private const ulong UberblockMagic = 0x00bab10c;
    private const uint DataTypeUint64 = 8, DataTypeString = 9;
    // blkid's zfs_idinfo.minsz (and ZFS's SPA_MINDEVSIZE): smaller devices are never ZFS members.
    private const long MinDeviceSize = 64L * 1024 * 1024;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        long size = device.Length;
        if (size < MinDeviceSize) return null;
        long align = size % LabelSize;
        long[] labels = [0, LabelSize, size - 2 * LabelSize - align, size - LabelSize - align];
        int found = 0;
        ulong version = 0;
        long labelOffset = 0;
        // One ring buffer for the four labels: the probe runs on every partition of a disk.
        var ring = new byte[UberblockCount * UberblockSize];
        foreach (long off in labels)
        {
            if (off < 0) continue;
            if (!ReadExactly(device, off + UberblockRing, ring)) return null;
            for (int i = 0; i < UberblockCount; i++)
            {
                ulong magic = Le64(ring, i * UberblockSize);             // ub_magic, native (little-endian) or byte-swapped
                if (magic == UberblockMagic) { found++; version = Le64(ring, i * UberblockSize + 8); }
                else if (magic == BinaryPrimitives.ReverseEndianness(UberblockMagic)) { found++; version = Be64(ring, i * UberblockSize + 8); }
            }
            labelOffset = off;
            if (found >= Wanted) break;
        }
        if (found < Wanted) return null;

        var (name, poolGuid) = ReadNvlist(device, labelOffset + NvlistOffset);
        return new FileSystemInfo("zfs_member", name, poolGuid?.ToString(CultureInfo.InvariantCulture),
            version.ToString(CultureInfo.InvariantCulture)) { IsMountable = false };
    }

    private static bool ReadExactly(IBlockReader device, long offset, byte[] buffer)
    {
        if (offset < 0 || offset + buffer.Length > device.Length) return false;
        for (int done = 0; done < buffer.Length;)
        {
            int n = device.ReadAt(offset + done, buffer.AsSpan(done));
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }

    /// <summary>
    /// Pool "name" and "pool_guid" from the label's nvlist, reading only its first 4 KiB as blkid does.
    /// XDR nvpairs: encoded size, decoded size, name length, name (padded to 4), then type, count, value.
    /// </summary>
    private static (string? Name, ulong? PoolGuid) ReadNvlist(IBlockReader device, long offset)
    {
        byte[]? p = device.TryRead(offset, 4096);
        if (p is null) return (null, null);
        string? name = null;
        ulong? guid = null;
        int pos = 12;                                                     // nvs header (4) + nvl version and flags (8)
        int left = 4096 - pos;
        int seen = 0;
        while (left > 12 && seen < 3)
        {
            uint nvpSize = Be32(p, pos), nameLen = Be32(p, pos + 8);
            if (nvpSize == 0) break;
            // The name is padded to 4 bytes: count the padding, or a value may end past the pair (and the buffer).
            long nameSize = ((long)nameLen + 3) & ~3L;
            long avail = (long)nvpSize - nameSize - 12;
            if (left < nvpSize || avail < 0) break;
            int nameAt = pos + 12, valueAt = nameAt + (int)nameSize;
            string key = Encoding.ASCII.GetString(p, nameAt, (int)Math.Min(nameLen, 64));
            if (key is "name" or "guid" or "pool_guid" && valueAt + 16 > p.Length) break;   // the value must lie in what was read
            if (key == "name")
            {
                uint type = Be32(p, valueAt), strLen = Be32(p, valueAt + 8);
                avail -= strLen + 12L;
                if (type == DataTypeString && avail >= 0) name = Label(p.AsSpan(valueAt + 12, (int)strLen));
                seen++;
            }
            else if (key is "guid" or "pool_guid")
            {
                uint type = Be32(p, valueAt);
                avail -= 16;
                if (key == "pool_guid" && type == DataTypeUint64 && avail >= 0) guid = Be64(p, valueAt + 8);
                seen++;
            }
            left -= (int)Math.Min(nvpSize, (uint)left);
            pos += (int)nvpSize;
        }
        return (name, guid);
    }
}
