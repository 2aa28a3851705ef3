using System.Text;

namespace RestoreTools.Engine.Paths;

/// <summary>
/// Linux names are bytes; .NET strings are UTF-16. Inside the engine a name is its UTF-8 text, and
/// each byte that is not part of valid UTF-8 is held as the lone surrogate U+DC00+byte (Python's
/// "surrogateescape"), which no valid UTF-8 decodes to: so bytes → string → bytes is exact.
/// Outside (objects, JSON, messages, restore paths) such a name shows its bytes as \xHH, with
/// backslashes doubled; a restore path segment in that form is looked up as written first, then
/// as the bytes it escapes.
/// </summary>
public static class NameCodec
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    /// <summary>The engine's string for a name's bytes.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (IsValidUtf8(bytes)) return Encoding.UTF8.GetString(bytes);
        var sb = new StringBuilder(bytes.Length);
        int i = 0;
        while (i < bytes.Length)
        {
            int n = ValidSequence(bytes[i..]);
            if (n > 0)
            {
                sb.Append(Encoding.UTF8.GetString(bytes.Slice(i, n)));
                i += n;
            }
            else sb.Append((char)(0xDC00 + bytes[i++]));
        }
        return sb.ToString();
    }

    /// <summary>The name's bytes again: escaped bytes as themselves, the rest as UTF-8.</summary>
    public static byte[] Encode(string s)
    {
        if (!HasRawBytes(s)) return Encoding.UTF8.GetBytes(s);
        var bytes = new List<byte>(s.Length + 8);
        var run = new StringBuilder();
        foreach (char c in s)
        {
            if (IsRawByte(c))
            {
                if (run.Length > 0) { bytes.AddRange(Encoding.UTF8.GetBytes(run.ToString())); run.Clear(); }
                bytes.Add((byte)(c - 0xDC00));
            }
            else run.Append(c);
        }
        if (run.Length > 0) bytes.AddRange(Encoding.UTF8.GetBytes(run.ToString()));
        return [.. bytes];
    }

    /// <summary>Whether the name holds bytes that are not UTF-8.</summary>
    public static bool HasRawBytes(string s)
    {
        foreach (char c in s) if (IsRawByte(c)) return true;
        return false;
    }

    /// <summary>The readable form: unchanged for UTF-8 names; otherwise \xHH for each raw byte and \\ for a backslash.</summary>
    public static string Display(string s)
    {
        if (!HasRawBytes(s)) return s;
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            if (IsRawByte(c)) sb.Append("\\x").Append(((int)c - 0xDC00).ToString("X2"));
            else if (c == '\\') sb.Append("\\\\");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The name a displayed form stands for, when it holds \xHH escapes of bytes 0x80-0xFF (what
    /// Display writes); null when it holds none, so the caller looks the name up only as written.
    /// </summary>
    public static string? Parse(string display)
    {
        if (!display.Contains("\\x", StringComparison.OrdinalIgnoreCase)) return null;
        var sb = new StringBuilder(display.Length);
        bool any = false;
        for (int i = 0; i < display.Length; i++)
        {
            char c = display[i];
            if (c == '\\' && i + 1 < display.Length && display[i + 1] == '\\') { sb.Append('\\'); i++; continue; }
            if (c == '\\' && i + 3 < display.Length && display[i + 1] is 'x' or 'X'
                && byte.TryParse(display.AsSpan(i + 2, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b) && b >= 0x80)
            {
                sb.Append((char)(0xDC00 + b));
                i += 3;
                any = true;
                continue;
            }
            sb.Append(c);
        }
        return any ? sb.ToString() : null;
    }

    /// <summary>The name's bytes when they are not UTF-8 (for a RawName beside the text), else null.</summary>
    public static byte[]? RawBytesOrNull(string s) => HasRawBytes(s) ? Encode(s) : null;

    private static bool IsRawByte(char c) => c is >= '\uDC80' and <= '\uDCFF';

    private static bool IsValidUtf8(ReadOnlySpan<byte> bytes)
    {
        try { Strict.GetCharCount(bytes); return true; }
        catch (DecoderFallbackException) { return false; }
    }

    /// <summary>Length of the valid UTF-8 sequence at the start, or 0 when its first byte starts none.</summary>
    private static int ValidSequence(ReadOnlySpan<byte> b)
    {
        byte b0 = b[0];
        if (b0 < 0x80) return 1;
        int n = b0 switch { >= 0xC2 and <= 0xDF => 2, >= 0xE0 and <= 0xEF => 3, >= 0xF0 and <= 0xF4 => 4, _ => 0 };
        if (n == 0 || b.Length < n) return 0;
        try { Strict.GetCharCount(b[..n]); return n; }
        catch (DecoderFallbackException) { return 0; }
    }
}
