using System.Text;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// A tar stream written byte by byte (ustar headers, pax 'x' records, GNU 'L'/'K' long names),
/// so that it can lie: sizes that do not match the data, names that climb out, links made
/// before entries written through them, a stream cut short.
/// </summary>
public sealed class HostileTar
{
    private readonly MemoryStream _s = new();

    public HostileTar Dir(string name, int mode = 0x1ED) => Entry(name.TrimEnd('/') + "/", '5', 0, mode: mode);

    public HostileTar File(string name, string content, int mode = 0x1A4, int uid = 0, int gid = 0)
    {
        var data = Encoding.UTF8.GetBytes(content);
        Entry(name, '0', data.Length, mode: mode, uid: uid, gid: gid);
        return Data(data);
    }

    public HostileTar Symlink(string name, string target) => Entry(name, '2', 0, link: target, mode: 0x1FF);

    public HostileTar HardLink(string name, string target) => Entry(name, '1', 0, link: target);

    public HostileTar Special(string name, char type, int major = 0, int minor = 0) => Entry(name, type, 0, major: major, minor: minor);

    /// <summary>A pax extended header ('x') for the next entry, records as given (they may lie).</summary>
    public HostileTar Pax(params (string Key, string Value)[] records)
    {
        var body = new StringBuilder();
        foreach (var (k, v) in records)
        {
            string rest = $" {k}={v}\n";
            int len = Encoding.UTF8.GetByteCount(rest);
            int total = len + len.ToString().Length;
            if (total.ToString().Length != len.ToString().Length) total++;
            body.Append(total).Append(rest);
        }
        var data = Encoding.UTF8.GetBytes(body.ToString());
        Entry("PaxHeaders/x", 'x', data.Length);
        return Data(data);
    }

    /// <summary>A GNU long name ('L') or long link name ('K') for the next entry.</summary>
    public HostileTar GnuLong(char type, string value)
    {
        var data = Encoding.UTF8.GetBytes(value + "\0");
        Entry("././@LongLink", type, data.Length);
        return Data(data);
    }

    /// <summary>A header as given: sizeField overrides the octal size (a lie, or garbage).</summary>
    public HostileTar Entry(string name, char type, long size, string link = "", int mode = 0x1A4, int uid = 0, int gid = 0,
        int major = 0, int minor = 0, string? sizeField = null)
    {
        var h = new byte[512];
        Put(h, 0, 100, Encoding.UTF8.GetBytes(name));
        Octal(h, 100, 8, mode);
        Octal(h, 108, 8, uid);
        Octal(h, 116, 8, gid);
        if (sizeField is null) Octal(h, 124, 12, size); else Put(h, 124, 12, Encoding.ASCII.GetBytes(sizeField));
        Octal(h, 136, 12, 1_700_000_000);
        h[156] = (byte)type;
        Put(h, 157, 100, Encoding.UTF8.GetBytes(link));
        Put(h, 257, 6, "ustar\0"u8.ToArray());
        Put(h, 263, 2, "00"u8.ToArray());
        Put(h, 265, 32, "root"u8.ToArray());
        Put(h, 297, 32, "root"u8.ToArray());
        Octal(h, 329, 8, major);
        Octal(h, 337, 8, minor);
        for (int i = 148; i < 156; i++) h[i] = (byte)' ';
        int sum = h.Sum(b => b);
        Put(h, 148, 8, Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 "));
        _s.Write(h);
        return this;
    }

    /// <summary>Data, padded to the 512-byte block.</summary>
    public HostileTar Data(byte[] data)
    {
        _s.Write(data);
        int pad = (512 - data.Length % 512) % 512;
        _s.Write(new byte[pad]);
        return this;
    }

    public HostileTar Raw(byte[] bytes)
    {
        _s.Write(bytes);
        return this;
    }

    /// <summary>The archive with its two zero blocks; without them when the stream is to end early.</summary>
    public byte[] Bytes(bool end = true)
    {
        if (end) _s.Write(new byte[1024]);
        return _s.ToArray();
    }

    private static void Put(byte[] h, int at, int len, byte[] value) => value.AsSpan(0, Math.Min(len, value.Length)).CopyTo(h.AsSpan(at));

    private static void Octal(byte[] h, int at, int len, long value) =>
        Put(h, at, len, Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(len - 1, '0') + "\0"));
}
