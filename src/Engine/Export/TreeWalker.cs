using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// One entry of a tree: its name inside the archive or copy, where it is, what lstat says. Entries
/// read from an archive (a remote agent's tar) carry their data in Open instead of a local path;
/// a hard link from an archive names, in LinkTarget, the earlier entry it shares its data with.
/// </summary>
internal readonly record struct TreeEntry(string RelativePath, string LocalPath, Stat.Info Info, string? LinkTarget, Func<FileData>? Open = null, bool IsHardLink = false)
{
    /// <summary>Extended attributes, when asked for (ExportOptionsBase.Xattrs).</summary>
    public IReadOnlyList<(string Name, byte[] Value)>? Xattrs { get; init; }

    /// <summary>The walked folder that holds it and its name there: opened relative to it while the walk is in it.</summary>
    public OpenFolder? Folder { get; init; }
    public byte[]? Name { get; init; }

    /// <summary>Opens the file read-only: relative to its folder while that is open, else by its path.</summary>
    public Stream OpenLocal() =>
        (Folder is not null && Name is not null ? Folder.TryOpenRead(Name, Info.Size) : null) ?? Files.OpenRead(LocalPath, Info.Size);

    public FileData OpenData() => Open?.Invoke() ?? FileData.FromOpened(OpenLocal(), Info);
}

/// <summary>
/// Walks a tree depth-first, in directory order as GNU tar does, without following symlinks
/// (they are entries, so nothing outside the filesystem is ever read through them). Folders are
/// read with getdents64 one batch at a time, so memory grows with depth, not with folder size, and
/// every call goes through PathAt, so a tree deeper than PATH_MAX is walked to its end.
/// </summary>
internal static class TreeWalker
{
    /// <param name="filter">Which files are kept by name (null: all); folders are walked and kept whatever their name.</param>
    public static IEnumerable<TreeEntry> Walk(string localRoot, string rootName, bool recurse, Action<string, string> onError, CancellationToken ct, bool xattrs = false, NameFilter? filter = null)
    {
        foreach (var e in WalkEntries(localRoot, rootName, recurse, onError, ct, filter))
            yield return xattrs ? WithXattrs(e, onError) : e;
    }

    /// <summary>The entry with its extended attributes read; an error is reported and the entry goes on without them.</summary>
    public static TreeEntry WithXattrs(TreeEntry e, Action<string, string> onError)
    {
        try { return e with { Xattrs = Native.Xattrs.Read(e.LocalPath) }; }
        catch (NativeException ex)
        {
            onError(e.RelativePath.Length == 0 ? "." : e.RelativePath, "extended attributes not read: " + ex.Message);
            return e;
        }
    }

    private static IEnumerable<TreeEntry> WalkEntries(string localRoot, string rootName, bool recurse, Action<string, string> onError, CancellationToken ct, NameFilter? filter)
    {
        Stat.Info rootInfo;
        try { rootInfo = Stat.LstatInfo(localRoot); }
        catch (NativeException ex) { onError(rootName.Length == 0 ? "." : rootName, ex.Message); yield break; }
        // A file given itself is tested by its own name, as Copy-Item -Include tests it.
        if (filter is not null && rootInfo.Kind != Stat.Kind.Directory && !filter.Keeps(rootName.Length > 0 ? rootName : Path.GetFileName(localRoot)))
            yield break;
        var root = Entry(localRoot, rootName, rootInfo, onError);
        if (root is null) yield break;
        if (rootName.Length > 0) yield return root.Value;
        if (rootInfo.Kind != Stat.Kind.Directory) yield break;

        // Files with several names: the first name met is the file, the others hard links to it (as tar and cp -a keep them).
        var linked = new Dictionary<(ulong, ulong), string>();
        var stack = new Stack<(OpenFolder Folder, IEnumerator<DirectoryEntries.Name> Children, string Local, string Rel)>();
        var first = Open(localRoot, rootName, onError);
        if (first is null) yield break;
        stack.Push((first, first.Names().GetEnumerator(), localRoot, rootName));
        try
        {
            while (stack.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                var (folder, children, dir, rel) = stack.Peek();
                bool more;
                try { more = children.MoveNext(); }
                catch (NativeException ex)
                {
                    onError(rel.Length == 0 ? "." : rel, ex.Message);
                    more = false;
                }
                if (!more)
                {
                    children.Dispose();
                    folder.Dispose();
                    stack.Pop();
                    continue;
                }
                var name = children.Current;
                string local = dir + "/" + name.Text;
                string childRel = Join(rel, name.Text);
                Stat.Info info;
                try { info = folder.Lstat(name.Bytes); }
                catch (NativeException ex) { onError(childRel, ex.Message); continue; }
                if (info.Kind == Stat.Kind.Missing) continue;
                // Filtered before hard links are paired: a link whose first name is left out is written as the file.
                if (filter is not null && info.Kind != Stat.Kind.Directory && !filter.Keeps(name.Text)) continue;
                var entry = Entry(local, childRel, info, onError);
                if (entry is null) continue;
                entry = entry.Value with { Folder = folder, Name = name.Bytes };
                if (info.Kind == Stat.Kind.File && info.Links > 1)
                {
                    if (linked.TryGetValue((info.Device, info.Inode), out var firstName))
                        entry = entry.Value with { LinkTarget = firstName, IsHardLink = true };
                    else linked[(info.Device, info.Inode)] = childRel;
                }
                yield return entry.Value;
                if (recurse && info.Kind == Stat.Kind.Directory && Open(local, childRel, onError) is { } sub)
                    stack.Push((sub, sub.Names().GetEnumerator(), local, childRel));
            }
        }
        finally
        {
            foreach (var (folder, children, _, _) in stack)
            {
                children.Dispose();
                folder.Dispose();
            }
        }
    }

    private static TreeEntry? Entry(string local, string rel, Stat.Info info, Action<string, string> onError)
    {
        string? target = null;
        if (info.Kind == Stat.Kind.Symlink)
        {
            try { target = Mounting.Ntfs3gMount.InVolume(local, Stat.ReadLink(local)); }
            catch (NativeException ex) { onError(rel, ex.Message); return null; }
        }
        return new TreeEntry(rel, local, info, target);
    }

    private static OpenFolder? Open(string local, string rel, Action<string, string> onError)
    {
        try { return OpenFolder.Open(local); }
        catch (NativeException ex)
        {
            onError(rel.Length == 0 ? "." : rel, ex.Message);
            return null;
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : a + "/" + b;
}
