using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// One entry of a tree: its name inside the archive or copy, where it is, what lstat says. Entries
/// read from an archive (a remote agent's tar) carry their data in Open instead of a local path.
/// </summary>
internal readonly record struct TreeEntry(string RelativePath, string LocalPath, Stat.Info Info, string? LinkTarget, Func<Stream>? Open = null)
{
    public Stream OpenData() => Open?.Invoke() ?? Files.OpenRead(LocalPath, Info.Size);
}

/// <summary>
/// Walks a tree depth-first, in directory order as GNU tar does, without following symlinks
/// (they are entries, so nothing outside the filesystem is ever read through them). Each open
/// folder is one streaming enumerator, so memory grows with depth, not with folder size.
/// </summary>
internal static class TreeWalker
{
    private static readonly EnumerationOptions Options = new() { AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false };

    public static IEnumerable<TreeEntry> Walk(string localRoot, string rootName, bool recurse, Action<string, string> onError, CancellationToken ct)
    {
        var rootInfo = Stat.LstatInfo(localRoot);
        var root = Entry(localRoot, rootName, rootInfo, onError);
        if (root is null) yield break;
        if (rootName.Length > 0) yield return root.Value;
        if (rootInfo.Kind != Stat.Kind.Directory) yield break;

        var stack = new Stack<(IEnumerator<string> Children, string Rel)>();
        var first = Open(localRoot, rootName, onError);
        if (first is null) yield break;
        stack.Push((first, rootName));
        try
        {
            while (stack.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                var (children, rel) = stack.Peek();
                bool more;
                try { more = children.MoveNext(); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    onError(rel.Length == 0 ? "." : rel, ex.Message);
                    more = false;
                }
                if (!more)
                {
                    children.Dispose();
                    stack.Pop();
                    continue;
                }
                string local = children.Current;
                string childRel = Join(rel, Path.GetFileName(local));
                Stat.Info info;
                try { info = Stat.LstatInfo(local); }
                catch (NativeException ex) { onError(childRel, ex.Message); continue; }
                if (info.Kind == Stat.Kind.Missing) continue;
                var entry = Entry(local, childRel, info, onError);
                if (entry is null) continue;
                yield return entry.Value;
                if (recurse && info.Kind == Stat.Kind.Directory && Open(local, childRel, onError) is { } sub)
                    stack.Push((sub, childRel));
            }
        }
        finally
        {
            foreach (var (children, _) in stack) children.Dispose();
        }
    }

    private static TreeEntry? Entry(string local, string rel, Stat.Info info, Action<string, string> onError)
    {
        string? target = null;
        if (info.Kind == Stat.Kind.Symlink)
        {
            try { target = Stat.ReadLink(local); }
            catch (NativeException ex) { onError(rel, ex.Message); return null; }
        }
        return new TreeEntry(rel, local, info, target);
    }

    private static IEnumerator<string>? Open(string local, string rel, Action<string, string> onError)
    {
        try { return Directory.EnumerateFileSystemEntries(local, "*", Options).GetEnumerator(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            onError(rel.Length == 0 ? "." : rel, ex.Message);
            return null;
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : a + "/" + b;
}
