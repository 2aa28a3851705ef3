namespace RestoreTools.Engine.Mounting;

/// <summary>
/// The folders a mount needs below MountRoot: made on mount, and removed again on unmount as far
/// as they are empty (another engine may share the parents).
/// </summary>
internal static class MountFolders
{
    /// <summary>Creates mountPoint and any missing parents below mountRoot; returns the topmost one made, or null.</summary>
    public static string? Create(string mountPoint, string mountRoot)
    {
        string root = Trim(mountRoot);
        string? top = null;
        for (string? d = Trim(mountPoint); d is not null && IsBelow(d, root) && !Directory.Exists(d); d = Path.GetDirectoryName(d))
            top = d;
        Directory.CreateDirectory(mountPoint);
        return top;
    }

    /// <summary>
    /// Removes mountPoint when this mount made it (top not null), then every parent below mountRoot
    /// that is left empty, stopping at the first that is not: a folder another engine still uses
    /// holds its mount point. (An engine that loses a parent between making it and mounting makes it
    /// again: see Mounter.)
    /// </summary>
    public static void Remove(string mountPoint, string? top, string mountRoot)
    {
        if (top is null) return;
        string root = Trim(mountRoot);
        for (string? d = Trim(mountPoint); d is not null && IsBelow(d, root); d = Path.GetDirectoryName(d))
        {
            try { Directory.Delete(d); }
            catch (DirectoryNotFoundException) { }         // gone already: go on upwards
            catch (IOException) { return; }               // not empty
            catch (UnauthorizedAccessException) { return; }
        }
    }

    private static bool IsBelow(string path, string root) =>
        path.Length > root.Length + 1 && path.StartsWith(root + "/", StringComparison.Ordinal);

    private static string Trim(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
