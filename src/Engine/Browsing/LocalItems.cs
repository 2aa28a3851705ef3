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
        try { st = Stat.LstatInfo(localPath); }
        catch (NativeException ex) { throw Failed(restorePath, ex); }
        return Describe(localPath, name, restorePath, st);
    }

    /// <summary>As above, with lstat's answer in hand (a listing asks it relative to the open folder).</summary>
    private static RestoreItem Describe(string localPath, string name, string restorePath, Stat.Info st)
    {
        string? target;
        try { target = st.Kind == Stat.Kind.Symlink ? Mounting.Ntfs3gMount.InVolume(localPath, Stat.ReadLink(localPath)) : null; }
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
    /// Each entry's lstat goes relative to the open folder, not down the whole path again.
    /// </summary>
    public static IEnumerable<RestoreItem> List(string localDir, string restoreDir, CancellationToken ct)
    {
        string prefix = restoreDir.EndsWith('/') ? restoreDir : restoreDir + "/";
        OpenFolder folder;
        try { folder = OpenFolder.Open(localDir); }
        catch (NativeException ex) { throw Failed(restoreDir, ex); }
        using (folder)
        {
            using var names = folder.Names().GetEnumerator();
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (!Next(names, restoreDir)) yield break;
                var name = names.Current;
                string restorePath = prefix + NameCodec.Display(name.Text);
                Stat.Info st;
                try { st = folder.Lstat(name.Bytes); }
                catch (NativeException ex) { throw Failed(restorePath, ex); }
                if (st.Kind == Stat.Kind.Missing) continue; // vanished between readdir and lstat
                yield return Describe(localDir + "/" + name.Text, name.Text, restorePath, st);
            }
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
