using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>
/// Parses a folder's 32-byte entries as Linux vfat's __fat_readdir/fat_parse_long do: a long name counts
/// only when its slots run complete and in order down to the short entry and their checksum is the short
/// name's; free (0x00) and deleted (0xE5) entries are skipped, not taken as the end.
/// </summary>
internal static class FatDirectoryParser
{
    public const byte AttrVolume = 0x08, AttrDirectory = 0x10, AttrLongName = 0x0F;
    private const byte Deleted = 0xE5;
    private const int MaxSlots = 20;                      // ceil(255 UTF-16 units / 13)

    private enum LongResult { Ok, Invalid, NotLongName, End }

    /// <summary>The folder's entries; offsetOf maps a byte index in dir to its offset on the volume.</summary>
    public static List<FatEntry> Parse(ReadOnlySpan<byte> dir, FatEntry parent, bool fat32, Func<int, long> offsetOf)
    {
        var result = new List<FatEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        char[] unicode = new char[MaxSlots * 13 + 1];
        int count = dir.Length / 32;
        int pos = 0;
        while (pos < count)
        {
            var de = dir.Slice(pos * 32, 32);
            byte attr = de[11];
            if (de[0] == Deleted
                || (attr != AttrLongName && (attr & AttrVolume) != 0)
                || (attr != AttrLongName && de[0] == 0))
            {
                pos++;
                continue;
            }

            string? longName = null;
            if (attr == AttrLongName)
            {
                var r = ParseLong(dir, count, ref pos, unicode, out longName);
                if (r == LongResult.End) break;
                if (r == LongResult.Invalid) { pos++; continue; }
                if (r == LongResult.NotLongName) continue;      // pos is at a plain entry: read it afresh
                de = dir.Slice(pos * 32, 32);
                attr = de[11];
            }
            pos++;

            string name = longName ?? FatShortName.Decode(de[..11], de[12]);
            if (name.Length == 0 || name == "." || name == ".." || name.Contains('/') || name.Contains('\0')) continue;
            if (!seen.Add(name)) continue;                       // a duplicate name: the first one wins

            uint cluster = Le16(de, 26);
            if (fat32) cluster |= (uint)Le16(de, 20) << 16;
            result.Add(new FatEntry(
                name, attr, cluster, Le32(de, 28),
                modified: FatTime.ToUtc(Le16(de, 22), Le16(de, 24)),
                accessed: FatTime.ToUtc(0, Le16(de, 18)),
                created: FatTime.ToUtc(Le16(de, 14), Le16(de, 16), de[13]),
                parent,
                entryOffset: offsetOf((pos - 1) * 32)));
        }
        return result;
    }

    /// <summary>
    /// fat_parse_long: on Ok, pos is at the short entry and longName is set when the checksum matches.
    /// Invalid: skip the entry at pos. NotLongName: parse the entry at pos as a plain one. End: no more entries.
    /// </summary>
    private static LongResult ParseLong(ReadOnlySpan<byte> dir, int count, ref int pos, char[] unicode, out string? longName)
    {
        longName = null;
        while (true)
        {
            // parse_long: the entry at pos should be the last (highest) slot of a name.
            var ds = dir.Slice(pos * 32, 32);
            byte id = ds[0];
            if ((id & 0x40) == 0) return LongResult.Invalid;
            int slots = id & ~0x40 & 0xFF;
            if (slots > MaxSlots || slots == 0) return LongResult.Invalid;
            byte checksum = ds[13];
            int slot = slots;
            bool restart = false;
            while (true)
            {
                slot--;
                int offset = slot * 13;
                for (int k = 0; k < 5; k++) unicode[offset + k] = (char)Le16(ds, 1 + 2 * k);
                for (int k = 0; k < 6; k++) unicode[offset + 5 + k] = (char)Le16(ds, 14 + 2 * k);
                for (int k = 0; k < 2; k++) unicode[offset + 11 + k] = (char)Le16(ds, 28 + 2 * k);
                if ((ds[0] & 0x40) != 0) unicode[offset + 13] = '\0';
                if (++pos >= count) return LongResult.End;
                if (slot == 0) break;
                ds = dir.Slice(pos * 32, 32);
                if (ds[11] != AttrLongName) return LongResult.NotLongName;
                if ((ds[0] & ~0x40) != slot || ds[13] != checksum) { restart = true; break; }
            }
            if (restart) continue;

            var de = dir.Slice(pos * 32, 32);
            if (de[0] == Deleted) return LongResult.Invalid;
            if (de[11] == AttrLongName) continue;
            if (de[0] == 0 || (de[11] & AttrVolume) != 0) return LongResult.Invalid;
            if (FatShortName.Checksum(de[..11]) == checksum) longName = Utf16(unicode.AsSpan(0, slots * 13 + 1));
            return LongResult.Ok;
        }
    }

    /// <summary>The name up to its NUL; a surrogate without its partner becomes U+FFFD.</summary>
    private static string Utf16(ReadOnlySpan<char> units)
    {
        int nul = units.IndexOf('\0');
        if (nul >= 0) units = units[..nul];
        Span<char> chars = stackalloc char[units.Length];
        for (int i = 0; i < units.Length; i++)
        {
            char c = units[i];
            if (char.IsHighSurrogate(c) && i + 1 < units.Length && char.IsLowSurrogate(units[i + 1]))
            {
                chars[i] = c;
                chars[i + 1] = units[i + 1];
                i++;
            }
            else chars[i] = char.IsSurrogate(c) ? '\uFFFD' : c;
        }
        return new string(chars);
    }
}
