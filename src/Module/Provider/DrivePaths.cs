using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Paths;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Provider;

/// <summary>
/// A restore path on one engine, as a drive path (or a restore path) stands for it; Item is the
/// entry when a wildcard found it, so that it need not be looked up again.
/// </summary>
public sealed record DriveTarget(string RestorePath, RestoreSession? Session, PSDriveInfo? Drive, RestoreItem? Item = null)
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
    /// With expandWildcards (-Path), the drive path becomes a restore path pattern and the drive's engine
    /// expands it (RestorePathExpander, as for restore paths: case-sensitive, no match is an ItemNotFound
    /// error); without (-LiteralPath) the names are taken as written.
    /// </summary>
    public static IReadOnlyList<DriveTarget>? Resolve(PSCmdlet cmdlet, string path, bool expandWildcards = false,
        bool matchHidden = false, Action<string, RestoreException>? onSkipped = null)
    {
        // Restore paths start at the root of the engine: they stay the engine's to resolve.
        if (string.IsNullOrEmpty(path) || path[0] == '/') return null;
        // The unresolved provider path keeps wildcards and their escapes as written: the engine expands them.
        string? providerPath = Provider(cmdlet.SessionState.Path, path, out var provider, out var drive);
        if (providerPath is null || !IsOurs(provider)) return null;
        var target = Target(providerPath, drive);
        if (!expandWildcards) return [target];
        var expander = new RestorePathExpander(target.Engine) { MatchHidden = matchHidden, OnSkipped = onSkipped };
        try
        {
            return expander.ExpandMatches(target.RestorePath).Select(m => target with { RestorePath = m.Path, Item = m.Item }).ToList();
        }
        catch (RestoreException ex) when (ex.Code == RestoreErrorCode.ItemNotFound && ex.Target == target.RestorePath)
        {
            // Said in the user's own spelling of the path.
            throw RestorePathExpander.NotFound(path);
        }
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
