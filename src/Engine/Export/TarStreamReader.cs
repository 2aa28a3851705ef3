using System.Globalization;
using System.Text;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Reads a tar stream (ustar, pax, GNU long names) one entry at a time, as GNU tar reads it. It
/// exists because the archive may come from a compromised guest, so every field is checked, and
/// because System.Formats.Tar refuses pax records whose value holds a newline (a name such as
/// "new\nline.txt"), which its own writer and GNU tar write. Anything malformed is an
/// InvalidDataException naming what was wrong.
/// </summary>
internal sealed class TarStreamReader(Stream input)
{
    /// <summary>Largest pax or GNU long-name block read into memory: far above any real path (a 300-level tree is 6 KB).</summary>
    private const int MaxMetaBlock = 1 << 20;

    private readonly byte[] _header = new byte[512];
    private DataStream? _current;

    /// <summary>One entry: the header fields after pax and GNU long-name records are applied, and its data.</summary>
    public sealed record Entry(char Type, string Name, string LinkName, int Mode, long Uid, long Gid, long Size,
        DateTimeOffset Mtime, IReadOnlyDictionary<string, string> Pax, Stream Data);

    public Entry? Next()
    {
        _current?.Skip();
        _current = null;
        var pax = new Dictionary<string, string>(StringComparer.Ordinal);
        string? longName = null, longLink = null;
        while (true)
        {
            if (!ReadHeader()) return null;
            char type = (char)_header[156];
            long size = Number(124, 12, "size");
            switch (type)
            {
                case 'x':
                    foreach (var (k, v) in PaxRecords(ReadMeta(size, "pax header"))) pax[k] = v;
                    continue;
                case 'g':
                    ReadMeta(size, "global pax header"); // archive-wide defaults: nothing here depends on them
                    continue;
                case 'L':
                    longName = CString(ReadMeta(size, "GNU long name"));
                    continue;
                case 'K':
                    longLink = CString(ReadMeta(size, "GNU long link"));
                    continue;
            }
            string name = pax.GetValueOrDefault("path") ?? longName ?? HeaderName();
            string link = pax.GetValueOrDefault("linkpath") ?? longLink ?? Field(157, 100);
            if (pax.TryGetValue("size", out var paxSize)) size = Decimal(paxSize, "pax size");
            long uid = pax.TryGetValue("uid", out var u) ? Decimal(u, "pax uid") : Number(108, 8, "uid");
            long gid = pax.TryGetValue("gid", out var g) ? Decimal(g, "pax gid") : Number(116, 8, "gid");
            if (uid > uint.MaxValue || gid > uint.MaxValue) throw Bad(name, $"owner {uid}:{gid} out of range");
            var mtime = pax.TryGetValue("mtime", out var m) ? PaxTime(m, name) : Time(Number(136, 12, "mtime"));
            int mode = (int)(Number(100, 8, "mode") & 0xFFF);
            // Entries without data (links, folders, devices) may still announce a size: it is skipped, as GNU tar does.
            _current = new DataStream(input, size, name);
            return new Entry(type == '\0' ? '0' : type, name, link, mode, uid, gid, size, mtime, pax, _current);
        }
    }

    private bool ReadHeader()
    {
        int got = ReadFully(_header);
        if (got == 0) return false; // an archive without its end blocks, as a cut stream of whole entries looks
        if (got < 512) throw new InvalidDataException("the archive ends inside a header");
        if (_header.All(b => b == 0)) return false; // the end-of-archive block
        long stored = Number(148, 8, "checksum");
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? ' ' : _header[i];
        if (sum != stored) throw new InvalidDataException($"a header with a bad checksum (entry '{HeaderName()}')");
        return true;
    }

    private byte[] ReadMeta(long size, string what)
    {
        if (size is < 0 or > MaxMetaBlock) throw new InvalidDataException($"a {what} of {size} bytes (at most {MaxMetaBlock})");
        var data = new byte[size];
        if (ReadFully(data) < size) throw new InvalidDataException($"the archive ends inside a {what}");
        SkipPadding(size);
        return data;
    }

    private void SkipPadding(long size)
    {
        int pad = (int)((512 - size % 512) % 512);
        if (pad > 0 && ReadFully(new byte[pad]) < pad) throw new InvalidDataException("the archive ends inside an entry's padding");
    }

    private int ReadFully(Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = input.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Pax records: "LEN key=value\n", LEN counting the whole record, so a value may hold newlines.</summary>
    private static IEnumerable<(string, string)> PaxRecords(byte[] block)
    {
        int pos = 0;
        while (pos < block.Length)
        {
            if (block[pos] == 0) break; // padding some writers leave
            int space = Array.IndexOf(block, (byte)' ', pos, Math.Min(20, block.Length - pos));
            if (space < 0 || !int.TryParse(Encoding.ASCII.GetString(block, pos, space - pos), NumberStyles.None, CultureInfo.InvariantCulture, out int len)
                || len <= space - pos + 1 || len > block.Length - pos || block[pos + len - 1] != '\n')
                throw new InvalidDataException("a malformed pax record");
            int eq = Array.IndexOf(block, (byte)'=', space + 1, pos + len - space - 1);
            if (eq < 0) throw new InvalidDataException("a pax record without '='");
            string key = Encoding.UTF8.GetString(block, space + 1, eq - space - 1);
            // Values are names as bytes (hdrcharset=BINARY when they are not UTF-8): the engine's string keeps them exact.
            string value = Paths.NameCodec.Decode(block.AsSpan(eq + 1, pos + len - 1 - (eq + 1)));
            pos += len;
            yield return (key, value);
        }
    }

    private string HeaderName()
    {
        string name = Field(0, 100);
        // ustar splits long names into prefix/name; GNU's old format keeps other data there.
        bool ustar = _header.AsSpan(257, 6).SequenceEqual("ustar\0"u8);
        string prefix = ustar ? Field(345, 155) : "";
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private string Field(int offset, int length) => CString(_header.AsSpan(offset, length));

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return Paths.NameCodec.Decode(nul < 0 ? bytes : bytes[..nul]);
    }

    /// <summary>An octal field (spaces and NULs around it), or GNU's base-256 for values that do not fit.</summary>
    private long Number(int offset, int length, string what)
    {
        var f = _header.AsSpan(offset, length);
        if ((f[0] & 0x80) != 0)
        {
            if ((f[0] & 0x40) != 0) throw new InvalidDataException($"a negative {what}");
            long v = f[0] & 0x3F;
            for (int i = 1; i < f.Length; i++)
            {
                if (v > (long.MaxValue >> 8)) throw new InvalidDataException($"a {what} too large");
                v = (v << 8) | f[i];
            }
            return v;
        }
        long value = 0;
        int k = 0;
        while (k < f.Length && f[k] == ' ') k++;
        for (; k < f.Length && f[k] is >= (byte)'0' and <= (byte)'7'; k++)
        {
            if (value > (long.MaxValue >> 3)) throw new InvalidDataException($"a {what} too large");
            value = value * 8 + (f[k] - '0');
        }
        for (; k < f.Length; k++)
            if (f[k] is not (0 or (byte)' ')) throw new InvalidDataException($"a malformed {what} field");
        return value;
    }

    private static long Decimal(string s, string what) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw new InvalidDataException($"a malformed {what} '{s}'");

    private static DateTimeOffset PaxTime(string s, string name)
    {
        if (!decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            throw Bad(name, $"a malformed mtime '{s}'");
        long whole = (long)Math.Floor(seconds);
        return Time(whole).AddTicks((long)((seconds - whole) * TimeSpan.TicksPerSecond));
    }

    /// <summary>Seconds since 1970, held to what DateTimeOffset can carry (an archive may claim any year).</summary>
    private static DateTimeOffset Time(long seconds) =>
        DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, -62135596800L, 253402300799L));

    private static InvalidDataException Bad(string name, string what) => new($"archive entry '{name}' has {what}");

    /// <summary>An entry's data: exactly its size, then its padding skipped; a stream cut short is an error, never a short file.</summary>
    private sealed class DataStream(Stream input, long length, string name) : ReadOnlyStream
    {
        private readonly long _length = length;
        private long _left = length;
        private bool _skipped;

        public override long Length => _length;

        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0 || buffer.Length == 0) return 0;
            int n = input.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            if (n == 0) throw new InvalidDataException($"the archive ends inside the data of '{name}'");
            _left -= n;
            return n;
        }

        public void Skip()
        {
            if (_skipped) return;
            _skipped = true;
            var buf = new byte[64 * 1024];
            while (_left > 0 && Read(buf) > 0) { }
            long pad = (512 - _length % 512) % 512;
            while (pad > 0)
            {
                int n = input.Read(buf, 0, (int)pad);
                if (n == 0) throw new InvalidDataException($"the archive ends inside the padding of '{name}'");
                pad -= n;
            }
        }

        protected override void Dispose(bool disposing) { } // the reader owns the archive stream
    }
}
