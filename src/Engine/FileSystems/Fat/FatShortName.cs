namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>8.3 names as Linux vfat shows them (codepage 437, shortname=mixed) and their LFN checksum.</summary>
internal static class FatShortName
{
    // Codepage 437 from 0x80 up; below it is ASCII (Linux's nls_cp437 maps 0x00-0x7F to itself).
    private const string Cp437High =
        "\u00c7\u00fc\u00e9\u00e2\u00e4\u00e0\u00e5\u00e7\u00ea\u00eb\u00e8\u00ef\u00ee\u00ec\u00c4\u00c5" +
        "\u00c9\u00e6\u00c6\u00f4\u00f6\u00f2\u00fb\u00f9\u00ff\u00d6\u00dc\u00a2\u00a3\u00a5\u20a7\u0192" +
        "\u00e1\u00ed\u00f3\u00fa\u00f1\u00d1\u00aa\u00ba\u00bf\u2310\u00ac\u00bd\u00bc\u00a1\u00ab\u00bb" +
        "\u2591\u2592\u2593\u2502\u2524\u2561\u2562\u2556\u2555\u2563\u2551\u2557\u255d\u255c\u255b\u2510" +
        "\u2514\u2534\u252c\u251c\u2500\u253c\u255e\u255f\u255a\u2554\u2569\u2566\u2560\u2550\u256c\u2567" +
        "\u2568\u2564\u2565\u2559\u2558\u2552\u2553\u256b\u256a\u2518\u250c\u2588\u2584\u258c\u2590\u2580" +
        "\u03b1\u00df\u0393\u03c0\u03a3\u03c3\u00b5\u03c4\u03a6\u0398\u03a9\u03b4\u221e\u03c6\u03b5\u2229" +
        "\u2261\u00b1\u2265\u2264\u2320\u2321\u00f7\u2248\u00b0\u2219\u00b7\u221a\u207f\u00b2\u25a0\u00a0";

    public const byte LowerBase = 0x08, LowerExt = 0x10;

    public static char Cp437(byte b) => b < 0x80 ? (char)b : Cp437High[b - 0x80];

    public static string DecodeCp437(ReadOnlySpan<byte> raw)
    {
        Span<char> chars = stackalloc char[raw.Length];
        for (int i = 0; i < raw.Length; i++) chars[i] = Cp437(raw[i]);
        return new string(chars);
    }

    /// <summary>"BASE.EXT" from the 11 name bytes: padding spaces cut, 0x05 read as 0xE5, the case flags of byte 12 applied.</summary>
    public static string Decode(ReadOnlySpan<byte> name11, byte caseFlags)
    {
        Span<char> chars = stackalloc char[12];
        int n = 0;
        int baseLen = 8;
        while (baseLen > 0 && name11[baseLen - 1] == ' ') baseLen--;
        for (int i = 0; i < baseLen; i++)
        {
            byte b = i == 0 && name11[0] == 0x05 ? (byte)0xE5 : name11[i];
            char c = Cp437(b);
            chars[n++] = (caseFlags & LowerBase) != 0 ? char.ToLowerInvariant(c) : c;
        }
        int extLen = 3;
        while (extLen > 0 && name11[8 + extLen - 1] == ' ') extLen--;
        if (extLen > 0)
        {
            chars[n++] = '.';
            for (int i = 0; i < extLen; i++)
            {
                char c = Cp437(name11[8 + i]);
                chars[n++] = (caseFlags & LowerExt) != 0 ? char.ToLowerInvariant(c) : c;
            }
        }
        return new string(chars[..n]);
    }

    /// <summary>The checksum of the 11 stored name bytes that every LFN slot of the name carries.</summary>
    public static byte Checksum(ReadOnlySpan<byte> name11)
    {
        byte sum = 0;
        for (int i = 0; i < 11; i++) sum = (byte)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
        return sum;
    }
}
