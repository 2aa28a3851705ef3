using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Provider;

/// <summary>A restore path on one engine, as a drive path stands for it.</summary>
public sealed record DriveTarget(string RestorePath, RestoreSession? Session, PSDriveInfo? Drive)
{
    /// <summary>The engine that owns the path: the drive's session, or this host's.</summary>
    internal IRestoreEngine Engine => Session?.Engine ?? EngineHolder.Engine;
}

/// <summary>
/// Lets a cmdlet's -Path take Restore: drive paths (Restore:\disk\part\1\etc\hosts, VM:/..., a
/// path relative to a current location on such a drive, RestoreTools::/...) beside restore paths.
/// </summary>
public static class DrivePaths
{
    /// <summary>
    /// The restore paths a value names on a RestoreTools drive, with that drive's session; null when
    /// the value is a restore path (/disk/...) or a path of another provider, which the caller takes as it did.
    /// With expandWildcards, a wildcard value is expanded through the drive (no match: an ItemNotFound error).
    /// </summary>
    public static IReadOnlyList<DriveTarget>? Resolve(PSCmdlet cmdlet, string path, bool expandWildcards = false)
    {
        // Restore paths start at the root of the engine: they stay the engine's to resolve.
        if (string.IsNullOrEmpty(path) || path[0] == '/') return null;
        var paths = cmdlet.SessionState.Path;
        // -Path semantics: wildcards expand, and escaped ones (a drive item's Path) are unescaped.
        if (expandWildcards && path.IndexOfAny(['*', '?', '[', ']', '`']) >= 0)
        {
            Provider(paths, path, out var provider, out _);
            if (!IsOurs(provider)) return null;
            try
            {
                return paths.GetResolvedPSPathFromPSPath(path)
                    .Select(p => Target(p.ProviderPath, p.Drive))
                    .ToList();
            }
            catch (ItemNotFoundException ex)
            {
                throw new RestoreException(RestoreErrorCode.ItemNotFound, $"nothing matches '{path}'", path, ex);
            }
        }
        string? providerPath = Provider(paths, path, out var p1, out var drive);
        return providerPath is not null && IsOurs(p1) ? [Target(providerPath, drive)] : null;
    }

    /// <summary>One restore path for a value: the drive's translation, or the value itself with no session.</summary>
    public static DriveTarget ResolveOne(PSCmdlet cmdlet, string path) =>
        Resolve(cmdlet, path) is [var one] ? one : new DriveTarget(path, null, null);

    /// <summary>The session of an object a Restore: drive wrote (its PSDrive), for cmdlets taking drive items from the pipeline.</summary>
    public static RestoreSession? SessionOf(object? input) =>
        input is PSObject pso && pso.Properties["PSDrive"]?.Value is RestoreDriveInfo drive ? drive.Session : null;

    private static DriveTarget Target(string providerPath, PSDriveInfo? drive) =>
        new(DriveNames.ToRestorePath(providerPath), (drive as RestoreDriveInfo)?.Session, drive);

    private static string? Provider(PathIntrinsics paths, string path, out ProviderInfo? provider, out PSDriveInfo? drive)
    {
        provider = null;
        drive = null;
        try
        {
            return paths.GetUnresolvedProviderPathFromPSPath(path, out provider, out drive);
        }
        catch (Exception ex) when (ex is System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or NotSupportedException
            or ArgumentException or PSInvalidOperationException or ItemNotFoundException)
        {
            return null;
        }
    }

    private static bool IsOurs(ProviderInfo? provider) => provider?.ImplementingType == typeof(RestoreProvider);
}
