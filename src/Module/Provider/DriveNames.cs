using System.Text;
using RestoreTools.Engine;

namespace RestoreTools.Module.Provider;

/// <summary>
/// Names and paths on a Restore: drive. PowerShell splits provider paths at both '/' and '\', so
/// a Linux name holding '\' (systemd's "dev-disk-by\x2duuid...", or a raw byte shown as \xHH)
/// would fall apart into two segments. On the drive such a name shows each '\' as %5C; a '%' is
/// written %25 only where it would otherwise read as one of these two escapes, so every other
/// name stays as the engine gives it and decoding is exact.
/// </summary>
public static class DriveNames
{
    /// <summary>A name (the engine's display form) as one drive path segment.</summary>
    public static string Encode(string name)
    {
        if (name.IndexOf('\\') < 0 && !HasEscape(name)) return name;
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '\\') sb.Append("%5C");
            else if (IsEscapeAt(name, i)) sb.Append("%25");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The engine's name for one drive path segment.</summary>
    public static string Decode(string segment)
    {
        if (!HasEscape(segment)) return segment;
        var sb = new StringBuilder(segment.Length);
        for (int i = 0; i < segment.Length; i++)
        {
            if (IsEscapeAt(segment, i))
            {
                sb.Append(segment[i + 1] == '5' ? '\\' : '%');
                i += 2;
            }
            else sb.Append(segment[i]);
        }
        return sb.ToString();
    }

    /// <summary>The restore path a provider path stands for: either separator, each segment decoded.</summary>
    public static string ToRestorePath(string? providerPath)
    {
        if (string.IsNullOrEmpty(providerPath)) return "/";
        if (providerPath.Contains('\0'))
            throw new RestoreException(RestoreErrorCode.InvalidPath, "the path contains a NUL character", providerPath);
        var segments = providerPath.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries);
        return "/" + string.Join('/', segments.Select(Decode));
    }

    /// <summary>The provider path of a restore path (whose segments are names, never holding '/').</summary>
    public static string ToProviderPath(string restorePath)
    {
        var segments = restorePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return "/" + string.Join('/', segments.Select(Encode));
    }

    /// <summary>A provider path in one spelling: '/' separators, no empty segments, escapes as Encode writes them.</summary>
    public static string Normalize(string? providerPath) => ToProviderPath(ToRestorePath(providerPath));

    /// <summary>A child's provider path under its parent's.</summary>
    public static string Child(string parentProviderPath, string name)
    {
        string parent = Normalize(parentProviderPath);
        return (parent == "/" ? "/" : parent + "/") + Encode(name);
    }

    private static bool HasEscape(string s)
    {
        for (int i = s.IndexOf('%'); i >= 0; i = s.IndexOf('%', i + 1))
            if (IsEscapeAt(s, i)) return true;
        return false;
    }

    // "%5C" (either case) or "%25" at i.
    private static bool IsEscapeAt(string s, int i) =>
        s[i] == '%' && i + 2 < s.Length
        && ((s[i + 1] == '5' && s[i + 2] is 'C' or 'c') || (s[i + 1] == '2' && s[i + 2] == '5'));
}
