using System.Globalization;
using System.Text;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Writes tar as GNU tar's POSIX format does: a ustar header where the entry fits, a pax extended
/// header before it where it does not (names over 100 bytes or not ASCII, large ids, sizes or
/// times). Names are bytes: one that is not UTF-8 goes out as those bytes with hdrcharset=BINARY,
/// as GNU tar writes it, so `tar -x` restores it exactly. The reader beside it is TarStreamReader.
/// </summary>
internal sealed class TarStreamWriter(Stream output)
{
    private readonly byte[] _header = new byte[512];
    private readonly byte[] _copy = new byte[64 * 1024];

    private const long MaxOctal7 = 0x1FFFFF, MaxOctal11 = 0x1FFFFFFFF;

    /// <summary>One entry header (and its pax header when needed); the caller then writes exactly size bytes of data.</summary>
    public void WriteHeader(char type, byte[] name, byte[]? link, int mode, long uid, long gid, long size, DateTimeOffset mtime,
        IEnumerable<(string Key, byte[] Value)>? extra = null)
    {
        long seconds = mtime.ToUnixTimeSeconds();
        var pax = new List<(string, byte[])>();
        bool binary = false;
        if (name.Length > 100 || !IsAscii(name)) { pax.Add(("path", name)); binary |= !IsUtf8(name); }
        if (link is not null && (link.Length > 100 || !IsAscii(link))) { pax.Add(("linkpath", link)); binary |= !IsUtf8(link); }
        if (uid > MaxOctal7) pax.Add(("uid", Ascii(uid)));
        if (gid > MaxOctal7) pax.Add(("gid", Ascii(gid)));
        if (size > MaxOctal11) pax.Add(("size", Ascii(size)));
        if (seconds is < 0 or > MaxOctal11) pax.Add(("mtime", Ascii(seconds)));
        if (extra is not null) pax.AddRange(extra);
        if (binary) pax.Insert(0, ("hdrcharset", "BINARY"u8.ToArray()));

        if (pax.Count > 0)
        {
            var records = PaxRecords(pax);
            Header('x', PaxName(name), null, 0x1A4 /* 0644 */, 0, 0, records.Length, Math.Clamp(seconds, 0, MaxOctal11));
            output.Write(records);
            Pad(records.Length);
        }
        Header(type, name, link, mode, Math.Min(uid, MaxOctal7), Math.Min(gid, MaxOctal7), size > MaxOctal11 ? 0 : size, Math.Clamp(seconds, 0, MaxOctal11));
    }

    /// <summary>Copies an entry's data (exactly size bytes) and pads it to the block.</summary>
    public void WriteData(Stream data, long size, string display)
    {
        long left = size;
        while (left > 0)
        {
            int n = data.Read(_copy, 0, (int)Math.Min(_copy.Length, left));
            if (n == 0) throw new IOException($"'{display}' ended {left:N0} bytes short of the size it had when its header was written");
            output.Write(_copy, 0, n);
            left -= n;
        }
        Pad(size);
    }

    /// <summary>The two zero blocks that end an archive.</summary>
    public void Finish() => output.Write(new byte[1024]);

    private void Header(char type, byte[] name, byte[]? link, int mode, long uid, long gid, long size, long mtime)
    {
        Array.Clear(_header);
        Put(0, 100, name);
        Octal(100, 8, mode & 0xFFF);
        Octal(108, 8, uid);
        Octal(116, 8, gid);
        Octal(124, 12, size);
        Octal(136, 12, mtime);
        _header[156] = (byte)type;
        if (link is not null) Put(157, 100, link);
        "ustar\0"u8.CopyTo(_header.AsSpan(257));
        "00"u8.CopyTo(_header.AsSpan(263));
        // The checksum counts its own field as spaces; written as six octal digits, NUL, space.
        _header.AsSpan(148, 8).Fill((byte)' ');
        long sum = 0;
        foreach (byte b in _header) sum += b;
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0'), _header.AsSpan(148));
        _header[154] = 0;
        _header[155] = (byte)' ';
        output.Write(_header);
    }

    private void Put(int offset, int length, byte[] value) => value.AsSpan(0, Math.Min(length, value.Length)).CopyTo(_header.AsSpan(offset));

    private void Octal(int offset, int length, long value)
    {
        string digits = Convert.ToString(value, 8).PadLeft(length - 1, '0');
        Encoding.ASCII.GetBytes(digits, _header.AsSpan(offset));
    }

    private void Pad(long size)
    {
        int pad = (int)((512 - size % 512) % 512);
        if (pad > 0) output.Write(new byte[pad]);
    }

    /// <summary>"LEN key=value\n", LEN counting the record itself.</summary>
    private static byte[] PaxRecords(List<(string Key, byte[] Value)> records)
    {
        var ms = new MemoryStream();
        foreach (var (key, value) in records)
        {
            int body = Encoding.UTF8.GetByteCount(key) + value.Length + 3; // ' ', '=', '\n'
            int len = body + 1;
            while (len.ToString(CultureInfo.InvariantCulture).Length + body > len) len++;
            ms.Write(Encoding.ASCII.GetBytes(len.ToString(CultureInfo.InvariantCulture) + " " + key + "="));
            ms.Write(value);
            ms.WriteByte((byte)'\n');
        }
        return ms.ToArray();
    }

    /// <summary>The pax header's own name, as GNU tar makes it: PaxHeaders/ and the entry's last name, cut to fit.</summary>
    private static byte[] PaxName(byte[] name)
    {
        var trimmed = name.AsSpan().TrimEnd((byte)'/');
        int slash = trimmed.LastIndexOf((byte)'/');
        var leaf = trimmed[(slash + 1)..];
        var sb = new StringBuilder("PaxHeaders/");
        foreach (byte b in leaf) { if (sb.Length >= 99) break; sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '_'); }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static byte[] Ascii(long v) => Encoding.ASCII.GetBytes(v.ToString(CultureInfo.InvariantCulture));

    private static bool IsAscii(byte[] s)
    {
        foreach (byte b in s) if (b is > 0x7E or < 0x20) return false;
        return true;
    }

    private static bool IsUtf8(byte[] s)
    {
        try { new UTF8Encoding(false, true).GetCharCount(s); return true; }
        catch (DecoderFallbackException) { return false; }
    }
}
