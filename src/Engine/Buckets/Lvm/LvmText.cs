using System.Globalization;
using System.Text;

namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>
/// LVM2's text metadata format (what vgcfgbackup writes and every metadata area holds):
/// <c>name = value</c> pairs, <c>name { ... }</c> sections, values that are numbers, "strings"
/// (with \" and \\ escapes) or [ lists ], and # comments. Parsed into nested dictionaries;
/// anything malformed is an InvalidDataException that says where.
/// </summary>
public static class LvmText
{
    /// <summary>A section: its values (long, string, List&lt;object&gt;) and subsections, in file order.</summary>
    public sealed class Section
    {
        public Dictionary<string, object> Values { get; } = new(StringComparer.Ordinal);
        public List<(string Name, Section Section)> Sections { get; } = [];

        public Section? Sub(string name) => Sections.FirstOrDefault(s => s.Name == name).Section;
        public string? Str(string name) => Values.GetValueOrDefault(name) as string;
        public long? Num(string name) => Values.GetValueOrDefault(name) is long n ? n : null;
        public List<object>? List(string name) => Values.GetValueOrDefault(name) as List<object>;
    }

    private const int MaxDepth = 16;

    public static Section Parse(string text)
    {
        int pos = 0;
        var root = ParseBody(text, ref pos, 0, topLevel: true);
        return root;
    }

    private static Section ParseBody(string t, ref int pos, int depth, bool topLevel)
    {
        if (depth > MaxDepth) throw Bad(t, pos, "sections nested too deep");
        var section = new Section();
        while (true)
        {
            Skip(t, ref pos);
            if (pos >= t.Length)
            {
                if (topLevel) return section;
                throw Bad(t, pos, "a section without its '}'");
            }
            if (t[pos] == '}')
            {
                if (topLevel) throw Bad(t, pos, "a '}' without its section");
                pos++;
                return section;
            }
            string name = Identifier(t, ref pos);
            Skip(t, ref pos);
            if (pos < t.Length && t[pos] == '{')
            {
                pos++;
                section.Sections.Add((name, ParseBody(t, ref pos, depth + 1, topLevel: false)));
            }
            else if (pos < t.Length && t[pos] == '=')
            {
                pos++;
                Skip(t, ref pos);
                section.Values[name] = Value(t, ref pos);
            }
            else throw Bad(t, pos, $"'{name}' followed by neither '=' nor '{{'");
        }
    }

    private static object Value(string t, ref int pos)
    {
        if (pos >= t.Length) throw Bad(t, pos, "a missing value");
        char c = t[pos];
        if (c == '"') return Quoted(t, ref pos);
        if (c == '[')
        {
            pos++;
            var list = new List<object>();
            while (true)
            {
                Skip(t, ref pos);
                if (pos < t.Length && t[pos] == ']') { pos++; return list; }
                if (list.Count > 0)
                {
                    if (pos >= t.Length || t[pos] != ',') throw Bad(t, pos, "a list item without ','");
                    pos++;
                    Skip(t, ref pos);
                }
                if (list.Count > 1_000_000) throw Bad(t, pos, "a list too long");
                list.Add(Value(t, ref pos));
            }
        }
        int start = pos;
        if (c is '-' or '+') pos++;
        while (pos < t.Length && (char.IsAsciiDigit(t[pos]) || t[pos] == '.')) pos++;
        string num = t[start..pos];
        if (long.TryParse(num, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) return v;
        if (double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return (long)d;
        throw Bad(t, start, "a value that is neither a number, a string nor a list");
    }

    private static string Quoted(string t, ref int pos)
    {
        var sb = new StringBuilder();
        pos++; // opening quote
        while (true)
        {
            if (pos >= t.Length) throw Bad(t, pos, "a string without its closing '\"'");
            char c = t[pos++];
            if (c == '"') return sb.ToString();
            if (c == '\\' && pos < t.Length) c = t[pos++];
            sb.Append(c);
        }
    }

    private static string Identifier(string t, ref int pos)
    {
        int start = pos;
        while (pos < t.Length && (char.IsAsciiLetterOrDigit(t[pos]) || t[pos] is '_' or '.' or '-' or '+')) pos++;
        if (pos == start) throw Bad(t, pos, $"an unexpected '{t[pos]}'");
        return t[start..pos];
    }

    private static void Skip(string t, ref int pos)
    {
        while (pos < t.Length)
        {
            if (char.IsWhiteSpace(t[pos])) pos++;
            else if (t[pos] == '#') { while (pos < t.Length && t[pos] != '\n') pos++; }
            else break;
        }
    }

    private static InvalidDataException Bad(string t, int pos, string what)
    {
        int line = 1;
        for (int i = 0; i < Math.Min(pos, t.Length); i++) if (t[i] == '\n') line++;
        return new InvalidDataException($"LVM metadata, line {line}: {what}");
    }
}
