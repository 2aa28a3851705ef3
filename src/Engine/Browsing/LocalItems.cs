using RestoreTools.Engine.Native;
using RestoreTools.Engine.Paths;

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
        Stat.Info st;
        string? target;
        try
        {
            st = Stat.LstatInfo(localPath);
            target = st.Kind == Stat.Kind.Symlink ? Mounting.Ntfs3gMount.InVolume(localPath, Stat.ReadLink(localPath)) : null;
        }
        catch (NativeException ex) { throw Failed(restorePath, ex); }
        if (st.Kind == Stat.Kind.Missing)
            throw new RestoreException(RestoreErrorCode.ItemNotFound, $"'{restorePath}' not found", restorePath);
        // name is the engine's string (NameCodec); objects show it readable and carry the raw bytes beside.
        return new RestoreItem(NameCodec.Display(name), restorePath, TypeOf(st.Kind), st.Size, st.Mtime, st.Mode, st.Uid, st.Gid,
            target is null ? null : NameCodec.Display(target), NameCodec.RawBytesOrNull(name));
    }

    /// <summary>
    /// Streams a folder's entries: the directory is read as the caller iterates (getdents in
    /// batches), so memory stays flat for a folder of any size and the first entries come at once.
    /// </summary>
    public static IEnumerable<RestoreItem> List(string localDir, string restoreDir, CancellationToken ct)
    {
        string prefix = restoreDir.EndsWith('/') ? restoreDir : restoreDir + "/";
        using var names = DirectoryEntries.Read(localDir).GetEnumerator();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (!Next(names, restoreDir)) yield break;
            string name = names.Current.Text;
            RestoreItem item;
            try { item = Describe(localDir + "/" + name, name, prefix + NameCodec.Display(name)); }
            catch (RestoreException e) when (e.Code == RestoreErrorCode.ItemNotFound) { continue; } // vanished between readdir and lstat
            yield return item;
        }
    }

    private static bool Next(IEnumerator<DirectoryEntries.Name> names, string restoreDir)
    {
        try { return names.MoveNext(); }
        catch (NativeException ex) { throw Failed(restoreDir, ex); }
    }

    /// <summary>A failed call on an image's filesystem, named by the restore path that led to it.</summary>
    public static RestoreException Failed(string restorePath, NativeException ex) =>
        new(ex.Errno == 36 /* ENAMETOOLONG */ ? RestoreErrorCode.InvalidPath : RestoreErrorCode.ReadFailed, $"'{restorePath}': {ex.Message}", restorePath, ex);
}
