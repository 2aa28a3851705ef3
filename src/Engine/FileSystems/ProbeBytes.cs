using System.Buffers.Binary;
using System.Text;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Field readers and the label/UUID formatting rules libblkid applies to every format.</summary>
internal static class ProbeBytes
{
    public static ushort Le16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    public static uint Le32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    public static ulong Le64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);
    public static ushort Be16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16BigEndian(b[o..]);
    public static uint Be32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32BigEndian(b[o..]);
    public static ulong Be64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64BigEndian(b[o..]);

    public static bool IsPowerOfTwo(ulong v) => v != 0 && (v & (v - 1)) == 0;

    public static bool Matches(ReadOnlySpan<byte> b, int o, string ascii)
    {
        if (o < 0 || o + ascii.Length > b.Length) return false;
        for (int i = 0; i < ascii.Length; i++)
            if (b[o + i] != (byte)ascii[i]) return false;
        return true;
    }

    /// <summary>blkid_probe_set_label: bytes up to the first NUL, trailing whitespace cut, empty means none.</summary>
    public static string? Label(ReadOnlySpan<byte> raw)
    {
        int nul = raw.IndexOf((byte)0);
        if (nul >= 0) raw = raw[..nul];
        return Trimmed(Encoding.UTF8.GetString(raw));
    }

    /// <summary>blkid_probe_set_utf8label for UTF-16 sources, with the same NUL cut and trim.</summary>
    public static string? Utf16Label(ReadOnlySpan<byte> raw, bool bigEndian)
    {
        raw = raw[..(raw.Length & ~1)];
        string s = (bigEndian ? Encoding.BigEndianUnicode : Encoding.Unicode).GetString(raw);
        int nul = s.IndexOf('\0');
        if (nul >= 0) s = s[..nul];
        return Trimmed(CapUtf8(s, MaxLabelUtf8Bytes));
    }

    /// <summary>libblkid's label buffer holds 128 bytes with the NUL: longer UTF-8 stops before the character that does not fit.</summary>
    public const int MaxLabelUtf8Bytes = 127;

    /// <summary>The longest prefix of s whose UTF-8 form fits in maxBytes, cut between characters.</summary>
    public static string CapUtf8(string s, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(s) <= maxBytes) return s;
        int bytes = 0, i = 0;
        while (i < s.Length)
        {
            int width = char.IsSurrogatePair(s, i) ? 2 : 1;
            int n = Encoding.UTF8.GetByteCount(s.AsSpan(i, width));
            if (bytes + n > maxBytes) break;
            bytes += n;
            i += width;
        }
        return s[..i];
    }

    private static string? Trimmed(string s)
    {
        // blkid_rtrim_whitespace uses isspace(): space, \t, \n, \v, \f, \r.
        s = s.TrimEnd(' ', '\t', '\n', '\v', '\f', '\r');
        return s.Length == 0 ? null : s;
    }

    /// <summary>blkid_probe_set_uuid: 16 bytes as 8-4-4-4-12 lower-case hex; all zeros means no UUID.</summary>
    public static string? Uuid(ReadOnlySpan<byte> raw)
    {
        raw = raw[..16];
        if (!raw.ContainsAnyExcept((byte)0)) return null;
        string h = Convert.ToHexStringLower(raw);
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}";
    }

    /// <summary>Plain ASCII field up to the first NUL (blkid_probe_strncpy_uuid and friends).</summary>
    public static string? Ascii(ReadOnlySpan<byte> raw)
    {
        int nul = raw.IndexOf((byte)0);
        if (nul >= 0) raw = raw[..nul];
        return raw.Length == 0 ? null : Encoding.ASCII.GetString(raw);
    }

    /// <summary>CRC32C as util-linux's crc32c(): reflected Castagnoli, caller supplies the seed, no final inversion.</summary>
    public static uint Crc32c(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return crc;
    }
}
