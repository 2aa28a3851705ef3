using System.Globalization;
using System.Text;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// UDF (ECMA-167): an NSR02/NSR03 descriptor in the volume recognition sequence at 32 KiB, the anchor at
/// block 256 (which fixes the block size), then the volume descriptor sequence for the label (logical volume
/// identifier), the UUID (from the volume set identifier) and the UDF revision. Follows libblkid's udf.c.
/// </summary>
public sealed class UdfProbe : SuperblockProbe
{
    private const long VsdOffset = 0x8000;
    private const int VdSize = 440;                                   // tag + the largest descriptor body blkid reads
    private const ushort TagPvd = 1, TagAnchor = 2, TagLvd = 6, TagTerminator = 8, TagLvid = 9;
    // A real volume descriptor sequence has a dozen entries; a hostile anchor may claim millions.
    private const uint MaxSequenceBlocks = 256;
    private static readonly string[] RecognitionIds = ["BEA01", "BOOT2", "CD001", "CDW02", "NSR02", "NSR03", "TEA01"];

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? first = device.TryRead(VsdOffset, 7);
        if (first is null || !RecognitionIds.Any(id => Matches(first, 1, id))) return null;

        uint bs = BlockSize(device);
        if (bs == 0) return null;
        byte[]? anchor = device.TryRead(256L * bs, VdSize);
        if (anchor is null) return null;

        uint count = Le32(anchor, 16) / bs, loc = Le32(anchor, 20);      // main VDS extent: length, location
        string? label = null, uuid = null;
        bool haveLabel = false, haveUuid = false;
        uint lvidLen = 0, lvidLoc = 0;
        ushort udfRev = 0;
        for (uint b = 0; b < Math.Min(count, MaxSequenceBlocks); b++)
        {
            byte[]? vd = device.TryRead((long)(loc + (ulong)b) * bs, VdSize);
            if (vd is null) return null;
            ushort type = Le16(vd, 0);
            if (type == 0 || Le32(vd, 12) != loc + b || type == TagTerminator) break;
            if (type == TagPvd && !haveUuid)
            {
                byte[]? utf8 = DString(vd.AsSpan(72, 128), 16);             // volume set identifier
                if (utf8 is not null)
                {
                    uuid = UuidFromVolumeSet(utf8);
                    haveUuid = uuid is not null;
                }
            }
            else if (type == TagLvd)
            {
                if ((lvidLen == 0 || lvidLoc == 0) && Le32(vd, 268) != 0)  // num_partition_maps: 0 means no LVID
                {
                    lvidLen = Le32(vd, 432);
                    lvidLoc = Le32(vd, 436);
                }
                if (udfRev == 0 && DomainIsOsta(vd.AsSpan(217, 23))) udfRev = Le16(vd, 240);
                if (!haveLabel)
                {
                    byte[]? utf8 = DString(vd.AsSpan(84, 128), MaxLabelUtf8Bytes);   // logical volume identifier
                    if (utf8 is not null)
                    {
                        label = Label(utf8);
                        haveLabel = label is not null;
                    }
                }
            }
            if (haveLabel && haveUuid && lvidLen != 0 && lvidLoc != 0) break;
        }

        if (lvidLoc != 0 && lvidLen >= VdSize)
        {
            long at = (long)lvidLoc * bs;
            byte[]? lvid = device.TryRead(at, VdSize);
            if (lvid is null) return null;
            // The implementation use area follows the two per-partition tables; its min_udf_read_rev is at 40.
            if (Le16(lvid, 0) == TagLvid && Le32(lvid, 12) == lvidLoc && Le32(lvid, 76) >= 46)
            {
                long iu = at + 80 + 8L * Le32(lvid, 72);
                byte[]? rev = device.TryRead(iu + 40, 2);
                if (rev is null) return null;
                if (Le16(rev, 0) != 0) udfRev = Le16(rev, 0);
            }
        }

        string? version = udfRev != 0
            ? string.Create(CultureInfo.InvariantCulture, $"{udfRev >> 8}.{udfRev & 0xFF:D2}")
            : null;
        return new FileSystemInfo("udf", label, uuid, version);
    }

    /// <summary>
    /// The block size whose recognition sequence holds an NSR descriptor and whose block 256 is the anchor:
    /// the device's sector size first, then 512..4096. 0 when none fits.
    /// </summary>
    private static uint BlockSize(IBlockReader device)
    {
        uint[] sizes = [(uint)device.SectorSize, 512, 1024, 2048, 4096];
        int vsd2048 = -1;                                             // the 2048-byte VSD scan's outcome, once known
        for (int i = 0; i < sizes.Length; i++)
        {
            if (i != 0 && sizes[i] == sizes[0]) continue;
            uint vsdLen = Math.Max(sizes[i], 2048);
            bool nsr;
            if (vsdLen == 2048 && vsd2048 >= 0) nsr = vsd2048 == 1;
            else
            {
                nsr = HasNsr(device, vsdLen, out bool readFailed);
                if (readFailed) return 0;
                if (vsdLen == 2048) vsd2048 = nsr ? 1 : 0;
            }
            if (!nsr) continue;

            byte[]? vd = device.TryRead(256L * sizes[i], VdSize);
            if (vd is null) return 0;
            if (Le32(vd, 12) != 256) continue;                            // tag location: wrong block size
            if (Le16(vd, 0) == TagAnchor) return sizes[i];
        }
        return 0;
    }

    private static bool HasNsr(IBlockReader device, uint vsdLen, out bool readFailed)
    {
        readFailed = false;
        for (int b = 0; b < 64; b++)
        {
            byte[]? vsd = device.TryRead(VsdOffset + (long)b * vsdLen, 7);
            if (vsd is null)
            {
                readFailed = true;
                return false;
            }
            if (vsd[1] == 0) break;
            if (Matches(vsd, 1, "NSR02") || Matches(vsd, 1, "NSR03")) return true;
            // The sequence ends at the first descriptor that is not one of these.
            if (!(Matches(vsd, 1, "BEA01") || Matches(vsd, 1, "BOOT2") || Matches(vsd, 1, "CD001")
                  || Matches(vsd, 1, "CDW02") || Matches(vsd, 1, "TEA01"))) break;
        }
        return false;
    }

    private static bool DomainIsOsta(ReadOnlySpan<byte> domain)
    {
        const string osta = "*OSTA UDF Compliant";                    // strncmp over the field: NUL ends both
        return Matches(domain, 0, osta) && domain[osta.Length] == 0;
    }

    /// <summary>
    /// A dstring (compression id, characters, length byte) as UTF-8, at most maxBytes long as libblkid's
    /// encoder writes it (stopping at NUL); null for an unknown compression id.
    /// </summary>
    private static byte[]? DString(ReadOnlySpan<byte> field, int maxBytes)
    {
        byte cid = field[0];
        int clen = field[^1];
        if (clen > 0) clen--;
        clen = Math.Min(clen, field.Length - 2);
        ReadOnlySpan<byte> c = field.Slice(1, clen);
        var sb = new StringBuilder();
        if (cid == 8)
        {
            foreach (byte b in c)
            {
                if (b == 0) break;
                sb.Append((char)b);                                       // Latin-1
            }
        }
        else if (cid == 16)
        {
            for (int i = 0; i + 1 < c.Length; i += 2)
            {
                char ch = (char)((c[i] << 8) | c[i + 1]);                 // UTF-16BE
                if (ch == 0) break;
                sb.Append(ch);
            }
        }
        else return null;
        return Encoding.UTF8.GetBytes(CapUtf8(sb.ToString(), maxBytes));
    }

    /// <summary>libblkid's UUID from the first 16 UTF-8 bytes of the volume set identifier (UDF 2.01 2.2.2.5).</summary>
    private static string? UuidFromVolumeSet(byte[] utf8)
    {
        if (utf8.Length < 8) return null;
        var buf = new byte[16];
        utf8.AsSpan(0, Math.Min(16, utf8.Length)).CopyTo(buf);
        int nonHex = 16;
        for (int i = 0; i < 16; i++)
        {
            if (!char.IsAsciiHexDigit((char)buf[i]))
            {
                nonHex = i;
                break;
            }
        }
        string Lower(int n) => Encoding.Latin1.GetString(buf, 0, n).ToLowerInvariant();
        if (nonHex < 8) return Convert.ToHexStringLower(buf, 0, 8);
        if (nonHex < 16) return Lower(8) + Convert.ToHexStringLower(buf, 8, 4);
        return Lower(16);
    }
}
