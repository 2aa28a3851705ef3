using System.Globalization;
using System.Text;

namespace RestoreTools.Contract;

/// <summary>
/// The status line and headers of an HTTP/1.1 answer, parsed strictly from the agent's bytes (which
/// are hostile input): what a download needs to find its body's end and what it holds.
/// </summary>
internal sealed class ResponseHead
{
    public int Status { get; private init; }
    public string Reason { get; private init; } = "";
    public bool Chunked { get; private init; }
    public long? ContentLength { get; private init; }
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    public string? this[string name] => _headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>The head's lines (status line first, without the empty line that ends it).</summary>
    public static ResponseHead Parse(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) throw Bad("no status line");
        string status = lines[0];
        // HTTP/1.x SSS reason
        if (status.Length < 12 || !status.StartsWith("HTTP/1.", StringComparison.Ordinal) || status[8] != ' '
            || !int.TryParse(status.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int code)
            || (status.Length > 12 && status[12] != ' ') || code < 100)
            throw Bad($"status line '{Printable(status)}'");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 1; i < lines.Count; i++)
        {
            string line = lines[i];
            int colon = line.IndexOf(':');
            if (colon <= 0 || line[0] is ' ' or '\t' || line.AsSpan(0, colon).IndexOfAny(" \t") >= 0)
                throw Bad($"header line '{Printable(line)}'");
            string name = line[..colon], value = line[(colon + 1)..].Trim(' ', '\t');
            if (headers.TryGetValue(name, out var before))
            {
                // Repeated length or framing is how a body's end is smuggled: refused unless identical.
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    if (before != value) throw Bad($"two {name} headers");
                    continue;
                }
                headers[name] = before + ", " + value;
            }
            else headers[name] = value;
        }
        bool chunked = false;
        if (headers.TryGetValue("Transfer-Encoding", out var te))
        {
            if (!te.Equals("chunked", StringComparison.OrdinalIgnoreCase)) throw Bad($"Transfer-Encoding '{Printable(te)}' (only chunked is read)");
            chunked = true;
        }
        long? length = null;
        if (headers.TryGetValue("Content-Length", out var cl))
        {
            if (chunked) throw Bad("both Content-Length and chunked");
            if (!long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) throw Bad($"Content-Length '{Printable(cl)}'");
            length = n;
        }
        var head = new ResponseHead { Status = code, Reason = status.Length > 13 ? status[13..] : "", Chunked = chunked, ContentLength = length };
        foreach (var (k, v) in headers) head._headers[k] = v;
        return head;
    }

    /// <summary>Content-Range "bytes FIRST-LAST/SIZE" (SIZE may be *) as first and length; null when absent, an error when malformed.</summary>
    public (long First, long Length)? ContentRange()
    {
        if (this["Content-Range"] is not { } value) return null;
        var s = value.AsSpan();
        int dash = s.IndexOf('-'), slash = s.IndexOf('/');
        if (!s.StartsWith("bytes ") || dash < 0 || slash < dash
            || !long.TryParse(s[6..dash], NumberStyles.None, CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(s[(dash + 1)..slash], NumberStyles.None, CultureInfo.InvariantCulture, out long last) || last < first)
            throw Bad($"Content-Range '{Printable(value)}'");
        return (first, last - first + 1);
    }

    public static AgentException Bad(string what, int status = 0) =>
        new(status, "BadAnswer", $"the agent's answer is not valid HTTP: {what}");

    /// <summary>A line for a message: control characters shown as '?', at most 100 characters.</summary>
    public static string Printable(string s)
    {
        var b = new StringBuilder(Math.Min(s.Length, 100));
        foreach (char c in s.Length > 100 ? s[..100] : s) b.Append(c < ' ' || c == 0x7F ? '?' : c);
        return b.ToString();
    }
}
