using System.Formats.Tar;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// POSIX pax tar through System.Formats.Tar: long names kept, symlinks as symlinks, modes,
/// mtimes and owners from lstat. File data is streamed straight from the mounted filesystem.
/// </summary>
internal static class TarArchiveWriter
{
    public static void Write(IEnumerable<TreeEntry> entries, Stream output, ProgressTracker tracker, ExportOptionsBase options)
    {
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var e in entries)
        {
            tracker.Begin(e.RelativePath);
            var type = e.Info.Kind switch
            {
                Stat.Kind.Directory => TarEntryType.Directory,
                Stat.Kind.File => TarEntryType.RegularFile,
                Stat.Kind.Symlink => TarEntryType.SymbolicLink,
                Stat.Kind.Fifo => TarEntryType.Fifo,
                Stat.Kind.BlockDevice => TarEntryType.BlockDevice,
                Stat.Kind.CharDevice => TarEntryType.CharacterDevice,
                _ => (TarEntryType?)null,
            };
            if (type is null)
            {
                tracker.Error(e.RelativePath, "sockets cannot be archived", options);
                continue;
            }
            var entry = new PaxTarEntry(type.Value, type == TarEntryType.Directory ? e.RelativePath + "/" : e.RelativePath)
            {
                Mode = (UnixFileMode)(e.Info.Mode & 0xFFF),
                ModificationTime = e.Info.Mtime,
                Uid = (int)e.Info.Uid,
                Gid = (int)e.Info.Gid,
            };
            if (e.LinkTarget is not null) entry.LinkName = e.LinkTarget;

            Stream? data = null;
            if (type == TarEntryType.RegularFile)
            {
                // Open first: an unreadable file is reported and left out, the archive stays whole.
                try { data = e.OpenData(); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    tracker.Error(e.RelativePath, ex.Message, options);
                    continue;
                }
                entry.DataStream = new CountingStream(data, tracker);
            }
            try { writer.WriteEntry(entry); }
            finally { data?.Dispose(); }

            switch (type)
            {
                case TarEntryType.Directory: tracker.Directory(); break;
                case TarEntryType.SymbolicLink: tracker.Symlink(); break;
                default: tracker.File(); break;
            }
        }
    }

}
