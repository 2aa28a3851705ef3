using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using RestoreTools.Engine;
using RestoreTools.Engine.Paths;

namespace RestoreTools.Module;

/// <summary>
/// Completes restore paths level by level: disks, bucket types, components, then folders and
/// files inside the mounted filesystem (engine.Resolve + a listing of LocalPath). For the
/// *-RestoreBucket cmdlets it offers whole bucket paths. For -Path, which takes wildcards, names
/// are completed with their wildcard characters escaped (a`[1`].txt), so that the completed path
/// names that item only; for -LiteralPath they are completed as they are.
/// </summary>
public sealed class RestorePathCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            bool bucketsOnly = commandName?.EndsWith("RestoreBucket", StringComparison.OrdinalIgnoreCase) == true;
            bool escape = !string.Equals(parameterName, "LiteralPath", StringComparison.OrdinalIgnoreCase);
            return Complete(EngineHolder.Engine, wordToComplete ?? "", bucketsOnly, escape).ToList();
        }
        catch (Exception)
        {
            return [];
        }
    }

    /// <summary>The completion logic, separate from the PowerShell plumbing.</summary>
    public static IEnumerable<CompletionResult> Complete(IRestoreEngine engine, string word, bool bucketsOnly = false, bool escape = false)
    {
        string text = Unquote(word);
        // A -Path word is a pattern: what it names is its unescaped text, and names go back escaped.
        string typed = text;
        if (escape) text = RestoreWildcard.Unescape(text);
        string Name(string name) => escape ? RestoreWildcard.Escape(name) : name;
        if (!text.StartsWith('/')) text = "/" + text;
        int slash = text.LastIndexOf('/');
        string parent = slash == 0 ? "/" : text[..slash];
        string leaf = text[(slash + 1)..];

        if (bucketsOnly)
        {
            // Bucket paths have two or three segments (/disk/raw, /disk/part/1): offer them whole.
            foreach (var b in engine.GetBuckets().OrderBy(b => b.Path, StringComparer.Ordinal))
            {
                if (!b.Path.StartsWith(text, StringComparison.OrdinalIgnoreCase)) continue;
                string tip = $"{b.FileSystem ?? "?"} {b.Label} {SizeFormatter.Format((long?)b.Size)}{(b.IsMounted ? " mounted" : "")}";
                yield return Result(b.Path, b.Path, CompletionResultType.ParameterValue, tip);
            }
            yield break;
        }

        var resolved = engine.Resolve(parent);
        // The parent as the user typed it (escapes kept).
        int typedSlash = typed.LastIndexOf('/');
        string typedParent = typedSlash <= 0 ? "/" : typed[..typedSlash];
        string prefix = typedParent.StartsWith('/') ? (typedParent == "/" ? "/" : typedParent + "/") : "/" + typedParent + "/";

        if (resolved.Kind is ResolvedKind.Root or ResolvedKind.Disk or ResolvedKind.BucketType)
        {
            foreach (var child in resolved.Children)
            {
                if (!child.Name.StartsWith(leaf, StringComparison.OrdinalIgnoreCase)) continue;
                string tip = child.Detail ?? $"{child.Kind} {child.Path}";
                yield return Result(prefix + Name(child.Name) + "/", child.Name, CompletionResultType.ProviderContainer, tip);
            }
            yield break;
        }

        if (resolved.LocalPath is null || !Directory.Exists(resolved.LocalPath)) yield break;
        var entries = new DirectoryInfo(resolved.LocalPath).EnumerateFileSystemInfos()
            .Where(e => e.Name.StartsWith(leaf, StringComparison.Ordinal))
            .OrderBy(e => e.Name, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            bool dir = e is DirectoryInfo && e.LinkTarget is null;
            string path = prefix + Name(e.Name) + (dir ? "/" : "");
            yield return Result(path, e.Name + (dir ? "/" : ""),
                dir ? CompletionResultType.ProviderContainer : CompletionResultType.ProviderItem, prefix + e.Name);
        }
    }

    private static CompletionResult Result(string path, string listItem, CompletionResultType type, string tip)
    {
        string completion = path.IndexOfAny([' ', '\'', '"', '$', '`', '(', ')', '{', '}', ';', ',', '&', '#', '@', '[', ']']) >= 0
            ? "'" + path.Replace("'", "''") + "'"
            : path;
        return new CompletionResult(completion, listItem, type, string.IsNullOrEmpty(tip) ? listItem : tip);
    }

    private static string Unquote(string word)
    {
        if (word.Length > 0 && (word[0] == '\'' || word[0] == '"'))
        {
            word = word[1..];
            if (word.Length > 0 && word[^1] == word[0]) word = word[..^1];
        }
        return word.TrimEnd('\'', '"');
    }
}

/// <summary>Completes disk names.</summary>
public sealed class DiskNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            string word = (wordToComplete ?? "").Trim('\'', '"');
            return EngineHolder.Engine.GetDisks()
                .Where(d => d.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .Where(d => !commandName.EndsWith("RestoreImage", StringComparison.OrdinalIgnoreCase) || d.Source == "image")
                .Select(d => new CompletionResult(d.Name.Contains(' ') ? $"'{d.Name}'" : d.Name, d.Name,
                    CompletionResultType.ParameterValue, $"{d.Source} {d.Device} {SizeFormatter.Format((long?)d.Size)}"))
                .ToList();
        }
        catch (Exception)
        {
            return [];
        }
    }
}

/// <summary>Completes bucket types seen on the disks (part, raw...).</summary>
public sealed class BucketTypeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            string word = (wordToComplete ?? "").Trim('\'', '"');
            return EngineHolder.Engine.GetDisks()
                .SelectMany(d => d.BucketTypes)
                .Append("part").Append("raw")
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(t => t.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.OrdinalIgnoreCase)
                .Select(t => new CompletionResult(t, t, CompletionResultType.ParameterValue, t))
                .ToList();
        }
        catch (Exception)
        {
            return [];
        }
    }
}
