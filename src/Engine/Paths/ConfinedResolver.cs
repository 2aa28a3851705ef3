using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Paths;

/// <summary>
/// Resolves a path inside a mounted filesystem as if that filesystem were the root: ".." stops at
/// the top, absolute symlinks start again from the top, relative ones from their folder. The result
/// is a path with no symlinks left in it, so nothing the image holds can point outside it.
/// </summary>
public static class ConfinedResolver
{
    /// <summary>Linux's MAXSYMLINKS: more than this many links in one walk is a loop.</summary>
    public const int MaxSymlinks = 40;

    /// <param name="root">The mount point.</param>
    /// <param name="relative">Segments inside the filesystem.</param>
    /// <param name="followFinal">Whether a symlink as the last segment is followed or returned as itself.</param>
    /// <returns>The local path and the canonical path inside the filesystem ("/" for its root).</returns>
    public static (string LocalPath, string InnerPath) Resolve(string root, IEnumerable<string> relative, bool followFinal, string displayPath)
    {
        var resolved = new List<string>();
        var pending = new LinkedList<string>(relative);
        int links = 0;

        while (pending.First is { } node)
        {
            string seg = node.Value;
            pending.RemoveFirst();
            if (seg is "" or ".") continue;
            if (seg == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            string candidate = Path.Combine(root, Path.Combine([.. resolved, seg]));
            var kind = Stat.Lstat(candidate);
            // A name shown as \xHH (bytes that are not UTF-8) is looked up as written first, then as its bytes.
            if (kind == Stat.Kind.Missing && NameCodec.Parse(seg) is { } raw)
            {
                string rawCandidate = Path.Combine(root, Path.Combine([.. resolved, raw]));
                if (Stat.Lstat(rawCandidate) is var rawKind && rawKind != Stat.Kind.Missing)
                {
                    seg = raw;
                    candidate = rawCandidate;
                    kind = rawKind;
                }
            }
            if (kind == Stat.Kind.Missing)
                throw new RestoreException(RestoreErrorCode.ItemNotFound, $"'{displayPath}' not found: '{seg}' does not exist", displayPath);

            bool last = pending.Count == 0;
            if (kind == Stat.Kind.Symlink && (!last || followFinal))
            {
                if (++links > MaxSymlinks)
                    throw new RestoreException(RestoreErrorCode.SymlinkLoop, $"'{displayPath}': too many levels of symbolic links", displayPath);
                string target = Stat.ReadLink(candidate);
                // ntfs-3g writes a junction or absolute symlink into this volume as the mount point + its path.
                if (target.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal)) target = target[root.TrimEnd('/').Length..];
                var targetSegs = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
                // An absolute target restarts at the filesystem's root, never the machine's.
                if (target.StartsWith('/')) resolved.Clear();
                for (int i = targetSegs.Length - 1; i >= 0; i--) pending.AddFirst(targetSegs[i]);
                continue;
            }
            if (!last && kind != Stat.Kind.Directory)
                throw new RestoreException(RestoreErrorCode.ItemNotFound, $"'{displayPath}' not found: '{seg}' is not a folder", displayPath);
            resolved.Add(seg);
        }
        string local = resolved.Count == 0 ? root : Path.Combine(root, Path.Combine([.. resolved]));
        return (local, "/" + string.Join('/', resolved.Select(NameCodec.Display)));
    }
}
