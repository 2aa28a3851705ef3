namespace RestoreTools.Engine.Paths;

/// <summary>
/// A name wildcard as PowerShell writes them (WildcardPattern): * any run, ? one character,
/// [abc] and [a-z] sets, ` escapes the next character; case-insensitive. The engine has no
/// PowerShell, and a pattern may come through an agent's request: it is matched by the linear
/// star-backtracking walk (at most name × pattern steps), never by a regex that could blow up.
/// </summary>
public sealed class NameWildcard
{
    private enum Kind { Literal, One, Star, Set }

    private readonly record struct Token(Kind Kind, char Char = '\0', (char From, char To)[]? Ranges = null);

    private readonly Token[] _tokens;

    public string Pattern { get; }

    public NameWildcard(string pattern)
    {
        Pattern = pattern;
        _tokens = Parse(pattern);
    }

    private static Token[] Parse(string p)
    {
        var tokens = new List<Token>(p.Length);
        for (int i = 0; i < p.Length; i++)
        {
            char c = p[i];
            if (c == '`' && i + 1 < p.Length) tokens.Add(new Token(Kind.Literal, Fold(p[++i])));
            else if (c == '*') { if (tokens.Count == 0 || tokens[^1].Kind != Kind.Star) tokens.Add(new Token(Kind.Star)); }
            else if (c == '?') tokens.Add(new Token(Kind.One));
            else if (c == '[')
            {
                var ranges = new List<(char, char)>();
                int j = i + 1;
                while (j < p.Length && p[j] != ']')
                {
                    char from = p[j] == '`' && j + 1 < p.Length ? p[++j] : p[j];
                    char to = from;
                    if (j + 2 < p.Length && p[j + 1] == '-' && p[j + 2] != ']')
                    {
                        j += 2;
                        to = p[j] == '`' && j + 1 < p.Length ? p[++j] : p[j];
                    }
                    ranges.Add((Fold(from), Fold(to)));
                    j++;
                }
                if (j >= p.Length)
                    throw new RestoreException(RestoreErrorCode.InvalidPath, $"wildcard '{p}' has a '[' without its ']' (write `[ for the character itself)", p);
                tokens.Add(new Token(Kind.Set, Ranges: [.. ranges]));
                i = j;
            }
            else tokens.Add(new Token(Kind.Literal, Fold(c)));
        }
        return [.. tokens];
    }

    public bool IsMatch(string name)
    {
        int n = 0, t = 0, starT = -1, starN = 0;
        while (n < name.Length)
        {
            if (t < _tokens.Length && _tokens[t].Kind != Kind.Star && One(_tokens[t], name[n])) { n++; t++; }
            else if (t < _tokens.Length && _tokens[t].Kind == Kind.Star) { starT = t++; starN = n; }
            else if (starT >= 0) { t = starT + 1; n = ++starN; }
            else return false;
        }
        while (t < _tokens.Length && _tokens[t].Kind == Kind.Star) t++;
        return t == _tokens.Length;
    }

    private static bool One(Token token, char c)
    {
        char f = Fold(c);
        return token.Kind switch
        {
            Kind.One => true,
            Kind.Literal => token.Char == f,
            Kind.Set => token.Ranges!.Any(r => f >= r.From && f <= r.To),
            _ => false,
        };
    }

    private static char Fold(char c) => char.ToLowerInvariant(c);
}
