namespace RestoreTools.Engine.Mounting;

/// <summary>
/// The folders a mount needs below MountRoot: made on mount, and on unmount removed again up to
/// the topmost one this mount made, each only while it is empty (another engine may share them).
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

    /// <summary>Removes mountPoint and its parents up to top (inclusive), stopping at the first that is not empty.</summary>
    public static void Remove(string mountPoint, string? top, string mountRoot)
    {
        if (top is null) return;
        string root = Trim(mountRoot), last = Trim(top);
        if (!IsBelow(last, root)) return;
        for (string? d = Trim(mountPoint); d is not null && IsBelow(d, root); d = Path.GetDirectoryName(d))
        {
            if (!IsBelow(d, last) && d != last) return;   // top is not an ancestor: nothing of ours above
            try { Directory.Delete(d); }
            catch (IOException) { return; }               // not empty (another mount's folder), or gone
            catch (UnauthorizedAccessException) { return; }
            if (d == last) return;
        }
    }

    private static bool IsBelow(string path, string root) =>
        path.Length > root.Length + 1 && path.StartsWith(root + "/", StringComparison.Ordinal);

    private static string Trim(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
