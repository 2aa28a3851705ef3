using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// The one writer of every copy, local or from a remote agent's archive. Everything below the
/// destination is made relative to an open folder, one name at a time, with O_NOFOLLOW: a symlink,
/// whether the archive just made it or it was in the destination before, is an entry and never a
/// way out. Hard links go only to files this copy wrote. Device nodes, FIFOs and sockets are never
/// made (a warning names each). setuid, setgid and sticky bits stay only where the owner is restored
/// with them (as root, as tar and cp -a do). Holes stay holes, and no file is started that the
/// destination has no room for.
/// </summary>
internal sealed class SafeTreeWriter : IDisposable
{
    private const int SpecialBits = 0xE00; // setuid 04000, setgid 02000, sticky 01000

    private readonly DirectoryHandle _parent;
    private readonly string _rootName;
    private readonly string _rootDisplay;
    private readonly ProgressTracker _tracker;
    private readonly CopyOptions _options;
    private readonly bool _restoreOwners;
    // Open folders from the copy's root down to where the last entry went: depth-first entries
    // reuse them, and a folder's mode and mtime are set when the walk leaves it.
    private readonly List<(string Rel, DirectoryHandle Dir, TreeEntry? Entry)> _chain = [];
    private readonly Dictionary<string, int> _blocked = new(StringComparer.Ordinal);
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);
    private readonly byte[] _buffer = new byte[1 << 20];

    private SafeTreeWriter(string destinationRoot, ProgressTracker tracker, CopyOptions options)
    {
        string full = Path.GetFullPath(destinationRoot).TrimEnd('/');
        _rootName = Path.GetFileName(full);
        _rootDisplay = full;
        if (_rootName.Length == 0)
            throw new RestoreException(RestoreErrorCode.WriteFailed, "the destination cannot be the root folder itself", destinationRoot);
        try { _parent = DirectoryHandle.Open(Path.GetDirectoryName(full)!); }
        catch (NativeException ex)
        {
            throw new RestoreException(RestoreErrorCode.WriteFailed, $"destination folder '{Path.GetDirectoryName(full)}' cannot be opened: {ex.Message}", destinationRoot, ex);
        }
        _tracker = tracker;
        _options = options;
        _restoreOwners = options.RestoreOwners && Identity.IsRoot;
    }

    /// <summary>Writes entries (the copy's root first, as "") to destinationRoot.</summary>
    public static void Copy(IEnumerable<TreeEntry> entries, string destinationRoot, ProgressTracker tracker, CopyOptions options)
    {
        using var writer = new SafeTreeWriter(destinationRoot, tracker, options);
        foreach (var e in entries) writer.Write(e);
        writer.Finish();
    }

    private string Target(string rel) => Paths.NameCodec.Display(rel.Length == 0 ? _rootDisplay : _rootDisplay + "/" + rel);

    private void Write(TreeEntry e)
    {
        string rel = e.RelativePath;
        _tracker.Begin(rel);
        if (!ValidName(rel))
        {
            _tracker.Error(rel, "unsafe name (empty, '.', '..' or NUL in a component): not written", _options);
            return;
        }
        if (BlockedBy(rel) is { } blocker)
        {
            _blocked[blocker]++;
            return;
        }
        int slash = rel.LastIndexOf('/');
        string parentRel = slash < 0 ? "" : rel[..slash];
        string name = rel.Length == 0 ? _rootName : rel[(slash + 1)..];
        DirectoryHandle? dir;
        try { dir = rel.Length == 0 ? _parent : Folder(parentRel); }
        catch (NativeException ex)
        {
            _tracker.Error(rel, ex.Message, _options);
            return;
        }
        if (dir is null)
        {
            // Its folder was refused (a link or a file where it goes): counted against that folder.
            if (BlockedBy(rel) is { } by) _blocked[by]++;
            return;
        }

        try
        {
            switch (e.Info.Kind)
            {
                case Stat.Kind.Directory: WriteDirectory(e, dir, name); break;
                case Stat.Kind.File when e.IsHardLink: WriteHardLink(e, dir, name); break;
                case Stat.Kind.File: WriteFile(e, dir, name); break;
                case Stat.Kind.Symlink: WriteSymlink(e, dir, name); break;
                default:
                    _tracker.Warning(rel, $"{Describe(e.Info.Kind)} not created: a copy never makes device nodes, FIFOs or sockets (an archive export keeps them)", _options);
                    break;
            }
        }
        catch (NativeException ex)
        {
            _tracker.Error(rel, ex.Message, _options);
        }
        catch (IOException ex)
        {
            _tracker.Error(rel, ex.Message, _options);
        }
    }

    private void WriteDirectory(TreeEntry e, DirectoryHandle dir, string name)
    {
        string rel = e.RelativePath;
        // A flat copy's root is the destination folder itself: made plain if missing, its own mode and mtime left alone.
        bool flatRoot = rel.Length == 0 && !_options.Container;
        var existing = dir.StatChild(name);
        if (existing.Kind == Stat.Kind.Missing) dir.MakeDirectory(name, flatRoot ? 0x1ED /* 0755 */ : 0x1C0 /* 0700 until its own mode is set */);
        else if (existing.Kind != Stat.Kind.Directory)
        {
            Block(rel, $"'{Target(rel)}' exists and is not a folder ({Describe(existing.Kind)}): nothing is written below it");
            return;
        }
        var handle = dir.OpenChild(name);
        if (handle is null)
        {
            Block(rel, $"'{Target(rel)}' vanished while it was made");
            return;
        }
        if (flatRoot)
        {
            _chain.Add((rel, handle, null));
            return;
        }
        SetXattrs(e, handle.SetXattr);
        _chain.Add((rel, handle, e));
        _tracker.Directory();
    }

    private void WriteFile(TreeEntry e, DirectoryHandle dir, string name)
    {
        string rel = e.RelativePath;
        if (!Replace(dir, name, rel)) return;
        using var data = e.OpenData();
        long need = data.DataLength;
        long free = dir.FreeBytes();
        if (need > free)
        {
            _tracker.Error(rel, $"needs {need:N0} bytes ({(data.IsSparse ? $"the data of a sparse file of {data.Size:N0}" : "its size")}), the destination has {free:N0} free: not written", _options);
            return;
        }
        using var file = dir.CreateFile(name);
        try
        {
            var source = new CountingStream(data.Packed, _tracker);
            long end = 0;
            foreach (var (offset, length) in data.Map ?? [(0L, long.MaxValue)])
            {
                long done = 0;
                while (done < length)
                {
                    int n = source.Read(_buffer, 0, (int)Math.Min(_buffer.Length, length - done));
                    if (n == 0)
                    {
                        if (data.Map is null) break;
                        throw new IOException($"the data ended {length - done:N0} bytes short of the run at {offset:N0}");
                    }
                    file.WriteAt(_buffer.AsSpan(0, n), offset + done);
                    done += n;
                }
                end = offset + done;
            }
            // A sparse file's size includes its trailing hole; a dense one is what was read.
            file.SetLength(data.Map is null ? end : data.Size);
            SetMetadata(file.SetOwner, file.SetMode, e);
            SetXattrs(e, file.SetXattr);
            file.SetTimes(e.Info.Mtime);
        }
        catch
        {
            dir.Remove(name); // no half-written file is left to be taken for the real one
            throw;
        }
        // A later hard link may name it: every file of an archive, and of a local walk those with several names.
        if (e.LocalPath.Length == 0 || e.Info.Links > 1) _written.Add(rel);
        _tracker.File();
    }

    private void WriteHardLink(TreeEntry e, DirectoryHandle dir, string name)
    {
        string rel = e.RelativePath;
        string target = e.LinkTarget ?? "";
        // Only to a file this copy wrote: a link to anything else (an outside path above all) is refused.
        if (!_written.Contains(target))
        {
            _tracker.Error(rel, $"hard link to '{target}', which is not a file written by this copy: not made", _options);
            return;
        }
        if (!Replace(dir, name, rel)) return;
        int slash = target.LastIndexOf('/');
        using var from = OpenBelowRoot(slash < 0 ? "" : target[..slash]);
        if (from is null)
        {
            _tracker.Error(rel, $"hard link to '{target}': its folder is gone", _options);
            return;
        }
        dir.Link(name, from, target[(slash + 1)..]);
        _written.Add(rel);
        _tracker.File();
    }

    private void WriteSymlink(TreeEntry e, DirectoryHandle dir, string name)
    {
        string rel = e.RelativePath;
        if (!Replace(dir, name, rel)) return;
        string target = e.LinkTarget ?? "";
        if (target.Length == 0 || target.Contains('\0'))
        {
            _tracker.Error(rel, "symlink with an empty target or a NUL in it: not made", _options);
            return;
        }
        dir.CreateSymlink(name, target);
        if (_restoreOwners) dir.SetLinkOwner(name, e.Info.Uid, e.Info.Gid);
        SetXattrs(e, (n, v) => dir.SetLinkXattr(name, n, v));
        dir.SetLinkTimes(name, e.Info.Mtime);
        _tracker.Symlink();
    }

    /// <summary>Owner first (chown clears setuid), then the mode, with special bits only if the owner is the original one.</summary>
    private void SetMetadata(Action<long, long> setOwner, Action<int> setMode, TreeEntry e)
    {
        bool owned = false;
        if (_restoreOwners)
        {
            try { setOwner(e.Info.Uid, e.Info.Gid); owned = true; }
            catch (NativeException ex) { _tracker.Warning(e.RelativePath, $"owner {e.Info.Uid}:{e.Info.Gid} not restored ({ex.Message})", _options); }
        }
        int mode = e.Info.Mode & 0xFFF;
        if (!owned && (mode & SpecialBits) != 0)
        {
            _tracker.Warning(e.RelativePath, $"setuid/setgid/sticky bits dropped: the owner {e.Info.Uid}:{e.Info.Gid} is not restored", _options);
            mode &= ~SpecialBits;
        }
        setMode(mode);
    }

    /// <summary>
    /// The entry's extended attributes, when the copy carries them. security.capability never: like
    /// a setuid bit it would grant privileges on this host. One that the destination refuses (a
    /// filesystem without them, an SELinux label the policy denies) is a warning naming it.
    /// </summary>
    private void SetXattrs(TreeEntry e, Action<string, byte[]> set)
    {
        if (!_options.Xattrs || e.Xattrs is null) return;
        foreach (var (name, value) in e.Xattrs)
        {
            if (name == "security.capability")
            {
                _tracker.Warning(e.RelativePath, "file capabilities (security.capability) not restored: they would grant privileges on this host", _options);
                continue;
            }
            try { set(name, value); }
            catch (NativeException ex) { _tracker.Warning(e.RelativePath, $"extended attribute {name} not restored: {ex.Message}", _options); }
        }
    }

    /// <summary>Whether name may be (re)made in dir: missing, or Force and not a folder (a link is removed itself).</summary>
    private bool Replace(DirectoryHandle dir, string name, string rel)
    {
        var existing = dir.StatChild(name);
        if (existing.Kind == Stat.Kind.Missing) return true;
        if (!_options.Force)
        {
            _tracker.Error(rel, $"'{Target(rel)}' {CopyOptions.ExistsReason}", _options);
            return false;
        }
        if (existing.Kind == Stat.Kind.Directory)
        {
            _tracker.Error(rel, $"'{Target(rel)}' is a folder and is not replaced by a file", _options);
            return false;
        }
        dir.Remove(name);
        return true;
    }

    /// <summary>
    /// The open folder rel (relative to the copy's root), reached from the folders already open and
    /// opened one name at a time without following links. A folder an archive never named is made;
    /// a name that is a link or a file blocks everything below it. Null when blocked.
    /// </summary>
    private DirectoryHandle? Folder(string rel)
    {
        while (_chain.Count > 0 && !IsSelfOrAncestor(_chain[^1].Rel, rel)) Leave();
        if (_chain.Count == 0)
        {
            // The copy's root is a file or a link (an archive may say so): nothing goes below it.
            if (!_blocked.ContainsKey("")) Block("", $"'{_rootDisplay}' is not a folder of this copy: nothing is written below it");
            return null;
        }
        while (_chain[^1].Rel != rel)
        {
            string top = _chain[^1].Rel;
            string rest = top.Length == 0 ? rel : rel[(top.Length + 1)..];
            string name = rest.Split('/')[0];
            string childRel = top.Length == 0 ? name : top + "/" + name;
            var dir = _chain[^1].Dir;
            DirectoryHandle? child;
            try
            {
                child = dir.OpenChild(name);
                if (child is null)
                {
                    dir.MakeDirectory(name, 0x1ED /* 0755: an archive that names no folder gives it no mode */);
                    child = dir.OpenChild(name);
                }
            }
            catch (NativeException ex) when (ex.Errno is Sys.ENOTDIR or Sys.ELOOP)
            {
                Block(childRel, $"'{Target(childRel)}' is not a folder (a link or a file is there): nothing is written below it");
                return null;
            }
            if (child is null) return null;
            _chain.Add((childRel, child, null));
        }
        return _chain[^1].Dir;
    }

    /// <summary>A folder below the root opened afresh (for a hard link's source), never through a link.</summary>
    private DirectoryHandle? OpenBelowRoot(string rel)
    {
        if (_chain.Count == 0) return null;
        var root = _parent.OpenChild(_rootName);
        if (root is null || rel.Length == 0) return root;
        var current = root;
        foreach (var name in rel.Split('/'))
        {
            var next = current.OpenChild(name);
            current.Dispose();
            if (next is null) return null;
            current = next;
        }
        return current;
    }

    /// <summary>Closes the deepest open folder, setting its owner, mode and mtime now that nothing more is written in it.</summary>
    private void Leave()
    {
        var (rel, dir, entry) = _chain[^1];
        _chain.RemoveAt(_chain.Count - 1);
        using (dir)
        {
            if (entry is not { } e) return;
            try
            {
                SetMetadata(dir.SetOwner, dir.SetMode, e);
                dir.SetTimes(e.Info.Mtime);
            }
            catch (NativeException ex) { _tracker.Error(rel.Length == 0 ? "." : rel, ex.Message, _options); }
        }
    }

    private void Block(string rel, string reason)
    {
        _blocked[rel] = 0;
        _tracker.Error(rel.Length == 0 ? "." : rel, reason, _options);
    }

    private string? BlockedBy(string rel)
    {
        foreach (var b in _blocked.Keys)
            if (b.Length == 0 || rel.StartsWith(b + "/", StringComparison.Ordinal)) return b;
        return null;
    }

    private void Finish()
    {
        while (_chain.Count > 0) Leave();
        foreach (var (rel, count) in _blocked)
            if (count > 0) _tracker.Error(rel.Length == 0 ? "." : rel, $"{count} entries below it were not written", _options);
    }

    private static bool IsSelfOrAncestor(string a, string rel) =>
        a.Length == 0 || a == rel || rel.StartsWith(a + "/", StringComparison.Ordinal);

    private static bool ValidName(string rel) =>
        rel.Length == 0 || rel.Split('/').All(s => s.Length > 0 && s != "." && s != ".." && !s.Contains('\0'));

    private static string Describe(Stat.Kind kind) => kind switch
    {
        Stat.Kind.Fifo => "FIFO",
        Stat.Kind.Socket => "socket",
        Stat.Kind.BlockDevice => "block device",
        Stat.Kind.CharDevice => "character device",
        Stat.Kind.Symlink => "a symlink",
        Stat.Kind.File => "a file",
        _ => "special file",
    };

    public void Dispose()
    {
        foreach (var (_, dir, _) in _chain) dir.Dispose();
        _chain.Clear();
        _parent.Dispose();
    }
}
