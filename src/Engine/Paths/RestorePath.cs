namespace RestoreTools.Engine.Paths;

/// <summary>
/// A restore path split into its parts: /disk/type/component.../path inside the filesystem.
/// Only the layout is parsed here; which parts name real things is the resolver's business.
/// </summary>
public sealed record RestorePath(IReadOnlyList<string> Segments)
{
    public static RestorePath Parse(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new RestoreException(RestoreErrorCode.InvalidPath, "the path is empty", path);
        if (path.Contains('\0'))
            throw new RestoreException(RestoreErrorCode.InvalidPath, "the path contains a NUL character", path);
        if (!path.StartsWith('/'))
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{path}' is not absolute: restore paths start with /disk", path);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return new RestorePath(segments);
    }

    public string? Disk => Segments.Count > 0 ? Segments[0] : null;
    public string? BucketType => Segments.Count > 1 ? Segments[1] : null;

    /// <summary>Checks that disk, type and component segments are names, not "." or "..".</summary>
    public void RequireNames(int count)
    {
        for (int i = 0; i < Math.Min(count, Segments.Count); i++)
            if (Segments[i] is "." or "..")
                throw new RestoreException(RestoreErrorCode.InvalidPath,
                    $"'{Segments[i]}' cannot stand for a disk, bucket type or component", "/" + string.Join('/', Segments));
    }

    public static string Join(params IEnumerable<string> parts) =>
        "/" + string.Join('/', parts.Where(p => p.Length > 0));

    public override string ToString() => Join(Segments);
}
