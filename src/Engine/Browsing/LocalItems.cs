using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Browsing;

/// <summary>Turns entries of a mounted filesystem into RestoreItems, from lstat: links stay links.</summary>
internal static class LocalItems
{
    public static ItemType TypeOf(Stat.Kind kind) => kind switch
    {
        Stat.Kind.Directory => ItemType.Directory,
        Stat.Kind.Symlink => ItemType.Symlink,
        Stat.Kind.BlockDevice => ItemType.BlockDevice,
        Stat.Kind.CharDevice => ItemType.CharDevice,
        Stat.Kind.Fifo => ItemType.Fifo,
        Stat.Kind.Socket => ItemType.Socket,
        _ => ItemType.File,
    };

    public static RestoreItem Describe(string localPath, string name, string restorePath)
    {
        var st = Stat.LstatInfo(localPath);
        if (st.Kind == Stat.Kind.Missing)
            throw new RestoreException(RestoreErrorCode.ItemNotFound, $"'{restorePath}' not found", restorePath);
        string? target = st.Kind == Stat.Kind.Symlink ? Stat.ReadLink(localPath) : null;
        return new RestoreItem(name, restorePath, TypeOf(st.Kind), st.Size, st.Mtime, st.Mode, st.Uid, st.Gid, target);
    }

    /// <summary>
    /// Streams a folder's entries: the directory is read as the caller iterates (getdents in
    /// batches), so memory stays flat for a folder of any size and the first entries come at once.
    /// </summary>
    public static IEnumerable<RestoreItem> List(string localDir, string restoreDir, CancellationToken ct)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        string prefix = restoreDir.EndsWith('/') ? restoreDir : restoreDir + "/";
        foreach (var entry in Directory.EnumerateFileSystemEntries(localDir, "*", options))
        {
            ct.ThrowIfCancellationRequested();
            string name = Path.GetFileName(entry);
            RestoreItem item;
            try { item = Describe(entry, name, prefix + name); }
            catch (RestoreException) { continue; } // vanished between readdir and lstat
            yield return item;
        }
    }
}
