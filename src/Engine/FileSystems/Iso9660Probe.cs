using System.Text;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>ISO 9660 (+ Joliet): volume descriptors from sector 16, label and date-UUID as libblkid forms them.</summary>
public sealed class Iso9660Probe : SuperblockProbe
{
    private const long DescriptorStart = 0x8000;   // sector 16 of 2048 bytes
    private const int SectorSize = 2048, MaxDescriptors = 16;
    private const byte VdPrimary = 1, VdSupplementary = 2, VdEnd = 255;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? first = device.TryRead(DescriptorStart, SectorSize);
        if (first is null || !Matches(first, 1, "CD001")) return null;    // standard identifier of the first descriptor

        byte[]? pvd = null, joliet = null;
        for (int i = 0; i < MaxDescriptors && (pvd is null || joliet is null); i++)
        {
            byte[]? d = i == 0 ? first : device.TryRead(DescriptorStart + (long)i * SectorSize, SectorSize);
            if (d is null || d[0] == VdEnd) break;
            if (pvd is null && d[0] == VdPrimary) pvd = d;
            // A supplementary descriptor is Joliet when its escape sequences (offset 88) name UCS-2 level 1, 2 or 3.
            else if (joliet is null && d[0] == VdSupplementary && (Matches(d, 88, "%/@") || Matches(d, 88, "%/C") || Matches(d, 88, "%/E")))
                joliet = d;
        }
        if (pvd is null) return null;

        // Volume identifier at 40 (32 bytes): Joliet holds only 16 UTF-16 characters, so blkid rebuilds
        // the full name from Joliet's prefix plus the PVD's tail where the two agree.
        string? label;
        if (joliet is not null)
        {
            byte[]? merged = MergeUtf16BeAscii(joliet.AsSpan(40, 32), pvd.AsSpan(40, 32));
            label = Utf16Label(merged ?? joliet.AsSpan(40, 32).ToArray(), bigEndian: true);
        }
        else label = Label(pvd.AsSpan(40, 32));

        // blkid takes the modification date (830) and falls back to the creation date (813).
        string? uuid = DateUuid(pvd.AsSpan(830, 17)) ?? DateUuid(pvd.AsSpan(813, 17));
        return new FileSystemInfo("iso9660", label, uuid, joliet is not null ? "Joliet Extension" : null);
    }

    /// <summary>"YYYY-MM-DD-HH-MM-SS-CC" from the 16 date digits; unset (all '0', zero offset) means none.</summary>
    private static string? DateUuid(ReadOnlySpan<byte> date)
    {
        var digits = date[..16];
        if (!digits.ContainsAnyExcept((byte)'0') && date[16] == 0) return null;
        var sb = new StringBuilder(22);
        for (int k = 0; k < 16; k++)
        {
            if (k is 4 or 6 or 8 or 10 or 12 or 14) sb.Append('-');
            if (digits[k] == 0) break;                                    // %c of a NUL ends the C string
            sb.Append((char)digits[k]);
        }
        return sb.ToString();
    }

    /// <summary>merge_utf16be_ascii(): Joliet's characters where they match the ASCII name ('_' = unrepresentable), then the ASCII tail.</summary>
    private static byte[]? MergeUtf16BeAscii(ReadOnlySpan<byte> utf16, ReadOnlySpan<byte> ascii)
    {
        int len = ascii.Length;
        var outBuf = new List<byte>(len * 2 + 4);
        int a = 0, u = 0;
        for (; u + 1 < len && a < len; a++, u += 2)
        {
            if (utf16[u] >= 0xD8 && utf16[u] <= 0xDB && u + 3 < len && utf16[u + 2] >= 0xDC && utf16[u + 2] <= 0xDF)
            {
                outBuf.Add(utf16[u++]);
                outBuf.Add(utf16[u++]);
            }
            if (ascii[a] == '_')
            {
                outBuf.Add(utf16[u]); outBuf.Add(utf16[u + 1]);
            }
            else if (utf16[u] == 0 && utf16[u + 1] == '_')
            {
                outBuf.Add(0); outBuf.Add(ascii[a]);
            }
            else if (utf16[u] == 0 && ToUpper(ascii[a]) == ToUpper(utf16[u + 1]))
            {
                outBuf.Add(0); outBuf.Add(ascii[a] is >= (byte)'A' and <= (byte)'Z' ? utf16[u + 1] : ascii[a]);
            }
            else return null;
        }
        for (; a < len; a++) { outBuf.Add(0); outBuf.Add(ascii[a]); }
        return outBuf.Count == 0 ? null : outBuf.ToArray();
    }

    private static byte ToUpper(byte c) => c is >= (byte)'a' and <= (byte)'z' ? (byte)(c - 32) : c;
}
