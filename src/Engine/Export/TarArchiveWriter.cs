using System.Formats.Tar;
using System.Globalization;
using System.Text;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// POSIX pax tar through System.Formats.Tar: long names kept, symlinks as symlinks, modes,
/// mtimes and owners from lstat. File data is streamed straight from the mounted filesystem; a
/// file with holes is written in GNU tar's pax sparse format 1.0, so its holes take no room in the
/// archive and `tar -xf --sparse` (or this project's copy) restores them as holes.
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

            FileData? data = null;
            if (type == TarEntryType.RegularFile)
            {
                // Open first: an unreadable file is reported and left out, the archive stays whole.
                try { data = e.OpenData(); }
                catch (IOException ex)
                {
                    tracker.Error(e.RelativePath, ex.Message, options);
                    continue;
                }
                if (!tracker.Fits(e.RelativePath, data.DataLength, data.IsSparse ? $"the data of a sparse file of {data.Size:N0}" : "its size", options))
                {
                    data.Dispose();
                    continue;
                }
            }
            try
            {
                TarEntry entry = data is { IsSparse: true }
                    ? SparseEntry(name, data, tracker)
                    // A pax header only where ustar cannot hold the entry (long or non-ASCII names, large
                    // ids or sizes): GNU tar does the same, and it saves ~1 KiB per entry (bench/).
                    : FitsUstar(name, e) ? new UstarTarEntry(type.Value, name) : new PaxTarEntry(type.Value, name);
                entry.Mode = (UnixFileMode)(e.Info.Mode & 0xFFF);
                entry.ModificationTime = e.Info.Mtime;
                entry.Uid = (int)e.Info.Uid;
                entry.Gid = (int)e.Info.Gid;
                if (e.LinkTarget is not null) entry.LinkName = e.LinkTarget;
                if (data is { IsSparse: false }) entry.DataStream = new CountingStream(data.Packed, tracker);
                writer.WriteEntry(entry);
            }
            finally { data?.Dispose(); }

            switch (type)
            {
                case TarEntryType.Directory: tracker.Directory(); break;
                case TarEntryType.SymbolicLink: tracker.Symlink(); break;
                default: tracker.File(); break;
            }
        }
    }

    /// <summary>
    /// GNU sparse 1.0: the header names the file dir/GNUSparseFile.0/name and the pax records carry
    /// the real name and size; the data starts with the map (count, then offset and length of each
    /// run, one decimal number a line, padded to 512 bytes) and goes on with the runs back to back.
    /// </summary>
    private static PaxTarEntry SparseEntry(string name, FileData data, ProgressTracker tracker)
    {
        int slash = name.LastIndexOf('/');
        string header = (slash < 0 ? "" : name[..(slash + 1)]) + "GNUSparseFile.0/" + name[(slash + 1)..];
        var attrs = new Dictionary<string, string>
        {
            ["GNU.sparse.major"] = "1",
            ["GNU.sparse.minor"] = "0",
            ["GNU.sparse.name"] = name,
            ["GNU.sparse.realsize"] = data.Size.ToString(CultureInfo.InvariantCulture),
        };
        var map = new StringBuilder();
        var runs = data.Map!.ToList();
        // A file that ends in a hole gets an empty run at its end, as GNU tar writes it, so the size comes back.
        if (runs.Count == 0 || runs[^1].Offset + runs[^1].Length < data.Size) runs.Add((data.Size, 0));
        map.Append(runs.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (offset, length) in runs)
            map.Append(offset.ToString(CultureInfo.InvariantCulture)).Append('\n').Append(length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var mapBytes = Encoding.ASCII.GetBytes(map.ToString());
        var block = new byte[(mapBytes.Length + 511) / 512 * 512];
        mapBytes.CopyTo(block, 0);
        return new PaxTarEntry(TarEntryType.RegularFile, header, attrs)
        {
            DataStream = new ConcatStream(new MemoryStream(block), new CountingStream(data.Packed, tracker), block.Length + data.DataLength),
        };
    }

    private static bool FitsUstar(string name, TreeEntry e) =>
        name.Length <= 100 && IsAscii(name) && (e.LinkTarget is null || (e.LinkTarget.Length <= 100 && IsAscii(e.LinkTarget)))
        && e.Info.Uid < 0x1FFFFF && e.Info.Gid < 0x1FFFFF && e.Info.Size < 0x1FFFFFFFF && e.Info.MtimeSeconds is >= 0 and < 0x1FFFFFFFF;

    private static bool IsAscii(string s)
    {
        foreach (char c in s) if (c > 0x7E || c < 0x20) return false;
        return true;
    }

    /// <summary>
    /// Two streams one after the other, of a known total length. It says it can seek, and knows its
    /// Position, because TarWriter takes data of an unseekable stream only into a seekable archive
    /// (an agent's answer is not); it is only ever read forward.
    /// </summary>
    private sealed class ConcatStream(Stream first, Stream second, long length) : ReadOnlyStream
    {
        private long _position;

        public override long Length => length;
        public override bool CanSeek => true;
        public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long to = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
            if (to != _position) throw new NotSupportedException("a sparse entry's data is read forward only");
            return to;
        }

        public override int Read(Span<byte> buffer)
        {
            int n = first.Read(buffer);
            if (n == 0) n = second.Read(buffer);
            _position += n;
            return n;
        }

        // The entry's data (second) is disposed by the writer's caller with its FileData.
        protected override void Dispose(bool disposing) { if (disposing) first.Dispose(); base.Dispose(disposing); }
    }
}
