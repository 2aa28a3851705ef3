namespace RestoreTools.Engine.Paths;

/// <summary>
/// One path segment's wildcard pattern, in PowerShell's wildcard language (as WildcardPattern takes
/// it): '*' any run of characters, '?' one character, '[abc]' and '[a-z]' one of a set, '`' escapes
/// the next character. Written here rather than taken from PowerShell because the engine (and the
/// NativeAOT agent built on it) has no PowerShell dependency. Path segments match case-sensitively
/// and ordinally, as Linux file systems compare names; name filters (-Include, -Exclude, -Filter)
/// ignore case, as Copy-Item's do. A pattern may come through an agent's request: it is matched by
/// the star-backtracking walk (at most name × pattern steps), never by a regex that could blow up.
/// </summary>
public sealed class RestoreWildcard
{
    public const char EscapeChar = '`';

    private enum Kind { Literal, One, Any, Set }

    private readonly record struct Token(Kind Kind, char Char = '\0', (char From, char To)[]? Ranges = null)
    {
        public bool Matches(char c) => Kind switch
        {
            Kind.Literal => c == Char,
            Kind.One => true,
            Kind.Set => Ranges!.Any(r => c >= r.From && c <= r.To),
            _ => false,
        };
    }

    private readonly Token[] _tokens;
    private readonly bool _ignoreCase;

    /// <summary>The pattern as written.</summary>
    public string Pattern { get; }

    /// <summary>
    /// Whether the pattern starts with a literal '.': only such a pattern matches a dot-name
    /// when hidden names are left out (as the shell's '.*' does and its '*' does not).
    /// </summary>
    public bool StartsWithDot => _tokens.Length > 0 && _tokens[0] is { Kind: Kind.Literal, Char: '.' };

    private RestoreWildcard(string pattern, Token[] tokens, bool ignoreCase)
    {
        Pattern = pattern;
        _tokens = tokens;
        _ignoreCase = ignoreCase;
    }

    /// <summary>Parses one segment; an unclosed or empty '[...]' is an InvalidPath error, as WildcardPattern refuses it.</summary>
    public static RestoreWildcard Parse(string pattern, bool ignoreCase = false)
    {
        var tokens = new List<Token>(pattern.Length);
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == EscapeChar)
            {
                // A trailing backtick escapes nothing: it is itself.
                tokens.Add(new Token(Kind.Literal, i + 1 < pattern.Length ? pattern[++i] : c));
            }
            else if (c == '*')
            {
                if (tokens.Count == 0 || tokens[^1].Kind != Kind.Any) tokens.Add(new Token(Kind.Any));
            }
            else if (c == '?') tokens.Add(new Token(Kind.One));
            else if (c == '[') i = ParseSet(pattern, i, tokens);
            else tokens.Add(new Token(Kind.Literal, c));
        }
        if (ignoreCase)
            for (int k = 0; k < tokens.Count; k++)
                tokens[k] = tokens[k] with { Char = Fold(tokens[k].Char), Ranges = tokens[k].Ranges?.Select(r => (Fold(r.From), Fold(r.To))).ToArray() };
        return new RestoreWildcard(pattern, [.. tokens], ignoreCase);
    }

    /// <summary>Reads "[...]" starting at open; returns the index of its ']'.</summary>
    private static int ParseSet(string pattern, int open, List<Token> tokens)
    {
        var chars = new List<char>();
        var escaped = new List<bool>();
        int i = open + 1;
        for (; i < pattern.Length && pattern[i] != ']'; i++)
        {
            bool esc = pattern[i] == EscapeChar && i + 1 < pattern.Length;
            if (esc) i++;
            chars.Add(pattern[i]);
            escaped.Add(esc);
        }
        if (i >= pattern.Length || chars.Count == 0)
            throw new RestoreException(RestoreErrorCode.InvalidPath,
                $"'{pattern}' is not a valid wildcard pattern: '[' opens a set of characters that ']' must close (write `[ for the character itself, or use -LiteralPath)", pattern);
        var ranges = new List<(char, char)>();
        for (int k = 0; k < chars.Count; k++)
        {
            // a-z: a range; a '-' first, last or escaped is itself.
            if (k + 2 < chars.Count && chars[k + 1] == '-' && !escaped[k + 1])
            {
                char from = chars[k], to = chars[k + 2];
                ranges.Add(from <= to ? (from, to) : (to, from));
                k += 2;
            }
            else ranges.Add((chars[k], chars[k]));
        }
        tokens.Add(new Token(Kind.Set, Ranges: [.. ranges]));
        return i;
    }

    /// <summary>Whether a whole name matches.</summary>
    public bool IsMatch(string name)
    {
        // Greedy with one backtrack point per '*': linear in practice, never exponential.
        int t = 0, n = 0, starT = -1, starN = 0;
        while (n < name.Length)
        {
            if (t < _tokens.Length && _tokens[t].Kind == Kind.Any)
            {
                starT = t++;
                starN = n;
            }
            else if (t < _tokens.Length && _tokens[t].Matches(_ignoreCase ? Fold(name[n]) : name[n]))
            {
                t++;
                n++;
            }
            else if (starT >= 0)
            {
                t = starT + 1;
                n = ++starN;
            }
            else return false;
        }
        while (t < _tokens.Length && _tokens[t].Kind == Kind.Any) t++;
        return t == _tokens.Length;
    }

    /// <summary>Whether text holds an unescaped '*', '?', '[' or ']' (as WildcardPattern.ContainsWildcardCharacters).</summary>
    public static bool ContainsWildcards(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == EscapeChar) i++;
            else if (c is '*' or '?' or '[' or ']') return true;
        }
        return false;
    }

    /// <summary>A name as a pattern that matches only itself (as WildcardPattern.Escape).</summary>
    public static string Escape(string name)
    {
        if (name.IndexOfAny(['*', '?', '[', ']', EscapeChar]) < 0) return name;
        var sb = new System.Text.StringBuilder(name.Length + 4);
        foreach (char c in name)
        {
            if (c is '*' or '?' or '[' or ']' or EscapeChar) sb.Append(EscapeChar);
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The name a pattern without wildcards stands for (as WildcardPattern.Unescape): "`*" is '*' and
    /// "``" is '`'; a backtick before any other character stays, so ordinary names pass unchanged.
    /// </summary>
    public static string Unescape(string text)
    {
        if (text.IndexOf(EscapeChar) < 0) return text;
        var sb = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == EscapeChar && i + 1 < text.Length && text[i + 1] is '*' or '?' or '[' or ']' or EscapeChar)
                c = text[++i];
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static char Fold(char c) => char.ToLowerInvariant(c);

    public override string ToString() => Pattern;
}
