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
            string name = type == TarEntryType.Directory ? e.RelativePath + "/" : e.RelativePath;
            // A pax header is written only where ustar cannot hold the entry (long or non-ASCII names,
            // large ids or sizes): GNU tar does the same, and it saves ~1 KiB per entry (bench/).
            TarEntry entry = FitsUstar(name, e)
                ? new UstarTarEntry(type.Value, name)
                : new PaxTarEntry(type.Value, name);
            entry.Mode = (UnixFileMode)(e.Info.Mode & 0xFFF);
            entry.ModificationTime = e.Info.Mtime;
            entry.Uid = (int)e.Info.Uid;
            entry.Gid = (int)e.Info.Gid;
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


    private static bool FitsUstar(string name, TreeEntry e) =>
        name.Length <= 100 && IsAscii(name) && (e.LinkTarget is null || (e.LinkTarget.Length <= 100 && IsAscii(e.LinkTarget)))
        && e.Info.Uid < 0x1FFFFF && e.Info.Gid < 0x1FFFFF && e.Info.Size < 0x1FFFFFFFF && e.Info.MtimeSeconds is >= 0 and < 0x1FFFFFFFF;

    private static bool IsAscii(string s)
    {
        foreach (char c in s) if (c > 0x7E || c < 0x20) return false;
        return true;
    }
}
