using RestoreTools.Engine.Browsing;

namespace RestoreTools.Engine.Paths;

/// <summary>
/// Expands wildcards in a restore path (/d/part/*/etc/host*) on any IRestoreEngine, so that this
/// host and an agent expand alike: the literal prefix (/d/part) is looked up directly, then each
/// level is listed only where its segment holds wildcards (RestoreWildcard), and literal segments
/// between are looked up directly again. A link found by a wildcard is never gone through; a link
/// the user wrote is followed inside its bucket, as for any literal path. Matches are the engine's
/// own paths, never parsed as patterns again: a name holding '*' from an image stays that name.
/// </summary>
public sealed class RestorePathExpander(IRestoreEngine engine)
{
    /// <summary>
    /// Whether wildcards match names starting with '.' (as -Force does for Get-ChildItem). Without it
    /// only a segment that itself starts with '.' matches them, as in the shell.
    /// </summary>
    public bool MatchHidden { get; init; }

    /// <summary>
    /// Told about a branch that could not be looked into (a bucket that does not mount, an unreadable
    /// folder) while other branches go on; "not found" on a branch is no news and is not told.
    /// </summary>
    public Action<string, RestoreException>? OnSkipped { get; init; }

    /// <summary>Whether a path holds wildcards that are not escaped.</summary>
    public static bool HasWildcards(string path) => RestoreWildcard.ContainsWildcards(path);

    /// <summary>A path that matches only itself: each segment's wildcard characters escaped.</summary>
    public static string Escape(string restorePath) =>
        string.Join('/', restorePath.Split('/').Select(RestoreWildcard.Escape));

    /// <summary>
    /// The restore paths a -Path value names: without wildcards the path itself (unescaped, not
    /// looked up, so that the caller's own call says what is wrong with it); with wildcards every
    /// existing match in order, or an ItemNotFound error when nothing matches.
    /// </summary>
    public IReadOnlyList<string> Expand(string path, CancellationToken cancellationToken = default) =>
        ExpandMatches(path, cancellationToken).Select(m => m.Path).ToList();

    /// <summary>
    /// As Expand, with each match's item as the listing gave it (so that a caller writing matches
    /// needs no second look-up, which through an agent is a round trip); Item is null for a path
    /// without wildcards.
    /// </summary>
    public IReadOnlyList<RestorePathMatch> ExpandMatches(string path, CancellationToken cancellationToken = default)
    {
        if (!HasWildcards(path)) return [new RestorePathMatch(RestoreWildcard.Unescape(path), null)];
        var found = Matches(path, cancellationToken).Select(i => new RestorePathMatch(i.Path, i)).ToList();
        if (found.Count == 0) throw NotFound(path);
        return found;
    }

    /// <summary>The error for a pattern that matches nothing, worded as the FileSystem provider words it.</summary>
    public static RestoreException NotFound(string path) =>
        new(RestoreErrorCode.ItemNotFound, $"Cannot find path '{path}' because it does not exist.", path);

    /// <summary>
    /// The items a pattern matches, level by level, each level in name order. Errors on the literal
    /// prefix (a disk that is not there) are thrown; errors on branches go to OnSkipped.
    /// </summary>
    public IEnumerable<RestoreItem> Matches(string pattern, CancellationToken cancellationToken = default)
    {
        RestorePath.Parse(pattern); // absolute, no NUL: the same refusals as a literal path
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int first = Array.FindIndex(segments, RestoreWildcard.ContainsWildcards);
        if (first < 0)
        {
            var only = engine.GetItem(RestoreWildcard.Unescape(pattern));
            return [only];
        }
        // Parse every wildcard segment first: a bad '[' is an error before anything is listed.
        var wildcards = segments.Select(s => RestoreWildcard.ContainsWildcards(s) ? RestoreWildcard.Parse(s) : null).ToArray();
        var start = Container(Literal(segments, 0, first, "/"), top: true);
        return start is null ? [] : Walk(start.Path, segments, wildcards, first, cancellationToken);
    }

    private IEnumerable<RestoreItem> Walk(string folder, string[] segments, RestoreWildcard?[] wildcards, int index, CancellationToken cancellationToken)
    {
        var pattern = wildcards[index]!;
        List<RestoreItem> matched;
        try
        {
            matched = engine.List(folder, cancellationToken)
                .Where(c => pattern.IsMatch(c.Name) && (MatchHidden || pattern.StartsWithDot || !c.Name.StartsWith('.')))
                .ToList();
        }
        catch (RestoreException ex)
        {
            Skipped(folder, ex);
            yield break;
        }
        matched.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        // The next wildcard segment after this one, and the literal segments before it.
        int next = index + 1;
        while (next < segments.Length && wildcards[next] is null) next++;
        foreach (var item in matched)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (index + 1 == segments.Length)
            {
                yield return item;
                continue;
            }
            // Only into containers, and never through a link a wildcard found.
            if (!item.IsContainer || item.Type == ItemType.Symlink) continue;
            string below = Literal(segments, index + 1, next, item.Path);
            if (next == segments.Length)
            {
                // Literal segments to the end: the item is there or not.
                if (TryGetItem(below) is { } end) yield return end;
                continue;
            }
            var container = below == item.Path ? item : Container(below, top: false);
            if (container is null) continue;
            foreach (var m in Walk(container.Path, segments, wildcards, next, cancellationToken)) yield return m;
        }
    }

    /// <summary>A path below base made of literal segments [from, to), unescaped.</summary>
    private static string Literal(string[] segments, int from, int to, string basePath)
    {
        if (from >= to) return basePath;
        string tail = string.Join('/', segments[from..to].Select(RestoreWildcard.Unescape));
        return basePath.EndsWith('/') ? basePath + tail : basePath + "/" + tail;
    }

    /// <summary>
    /// The container at a literally written path, or null when it is something else. A link written
    /// literally is followed (inside its bucket, as the engine resolves any path) to what it names.
    /// </summary>
    private RestoreItem? Container(string path, bool top)
    {
        try
        {
            var item = engine.GetItem(path);
            if (item.Type == ItemType.Symlink)
            {
                var resolved = engine.Resolve(path);
                if (resolved.Bucket is null) return null;
                string target = resolved.RelativePath is null or "/" ? resolved.Bucket.Path : resolved.Bucket.Path + resolved.RelativePath;
                item = engine.GetItem(target);
            }
            return item.IsContainer && item.Type != ItemType.Symlink ? item : null;
        }
        catch (RestoreException ex) when (!top)
        {
            Skipped(path, ex);
            return null;
        }
    }

    private RestoreItem? TryGetItem(string path)
    {
        try { return engine.GetItem(path); }
        catch (RestoreException ex)
        {
            Skipped(path, ex);
            return null;
        }
    }

    private void Skipped(string path, RestoreException ex)
    {
        if (ex.Code is RestoreErrorCode.ItemNotFound or RestoreErrorCode.DiskNotFound or RestoreErrorCode.BucketTypeNotFound
            or RestoreErrorCode.ComponentNotFound or RestoreErrorCode.InvalidPath or RestoreErrorCode.NotAFile)
            return;
        OnSkipped?.Invoke(path, ex);
    }
}

/// <summary>One path a -Path value names, with its item when a wildcard found it.</summary>
public readonly record struct RestorePathMatch(string Path, RestoreItem? Item);
