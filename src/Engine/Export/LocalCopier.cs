using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Writes a walked tree to a local folder: files with their bytes, modes and mtimes, folders,
/// and symlinks recreated as symlinks (never read through). An existing target is left alone
/// unless Force is set, and nothing is ever written through a symlink already on the target side.
/// </summary>
internal static class LocalCopier
{
    public static void Copy(IEnumerable<TreeEntry> entries, string destinationRoot, ProgressTracker tracker, CopyOptions options)
    {
        var folders = new List<(string Path, TreeEntry Entry)>();
        string? blocked = null; // a subtree whose target folder could not be made
        foreach (var e in entries)
        {
            if (blocked is not null && e.RelativePath.StartsWith(blocked + "/", StringComparison.Ordinal)) continue;
            blocked = null;
            tracker.Begin(e.RelativePath);
            string target = e.RelativePath.Length == 0 ? destinationRoot : Path.Combine(destinationRoot, e.RelativePath);
            var existing = Stat.LstatInfo(target);
            try
            {
                switch (e.Info.Kind)
                {
                    case Stat.Kind.Directory:
                        if (existing.Kind == Stat.Kind.Missing) Directory.CreateDirectory(target);
                        else if (existing.Kind != Stat.Kind.Directory)
                        {
                            blocked = e.RelativePath;
                            tracker.Error(e.RelativePath, $"'{target}' exists and is not a folder", options);
                            continue;
                        }
                        folders.Add((target, e));
                        tracker.Directory();
                        break;

                    case Stat.Kind.File:
                        if (!Replace(target, existing, e, tracker, options)) continue;
                        CopyFile(e, target, tracker);
                        tracker.File();
                        break;

                    case Stat.Kind.Symlink:
                        if (!Replace(target, existing, e, tracker, options)) continue;
                        File.CreateSymbolicLink(target, e.LinkTarget!);
                        tracker.Symlink();
                        break;

                    default:
                        tracker.Error(e.RelativePath, $"special file ({e.Info.Kind}) not copied", options);
                        break;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                tracker.Error(e.RelativePath, ex.Message, options);
            }
        }
        // Folder modes and mtimes last: writing into a folder changes its mtime, a read-only mode blocks it.
        for (int i = folders.Count - 1; i >= 0; i--)
        {
            var (path, e) = folders[i];
            try
            {
                File.SetUnixFileMode(path, (UnixFileMode)(e.Info.Mode & 0xFFF));
                Directory.SetLastWriteTimeUtc(path, e.Info.Mtime.UtcDateTime);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                tracker.Error(e.RelativePath, ex.Message, options);
            }
        }
    }

    private static bool Replace(string target, Stat.Info existing, TreeEntry e, ProgressTracker tracker, CopyOptions options)
    {
        if (existing.Kind == Stat.Kind.Missing) return true;
        if (!options.Force)
        {
            tracker.Error(e.RelativePath, $"'{target}' exists (use Force to overwrite)", options);
            return false;
        }
        if (existing.Kind == Stat.Kind.Directory)
        {
            tracker.Error(e.RelativePath, $"'{target}' is a folder and is not replaced by a file", options);
            return false;
        }
        File.Delete(target); // a link is removed itself, so the new file never lands where it pointed
        return true;
    }

    private static void CopyFile(TreeEntry e, string target, ProgressTracker tracker)
    {
        using (var source = e.OpenData())
        using (var dest = new FileStream(target, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0, PreallocationSize = e.Info.Size }))
        {
            new CountingStream(source, tracker).CopyTo(dest, 1 << 20);
        }
        File.SetUnixFileMode(target, (UnixFileMode)(e.Info.Mode & 0xFFF));
        File.SetLastWriteTimeUtc(target, e.Info.Mtime.UtcDateTime);
    }
}
