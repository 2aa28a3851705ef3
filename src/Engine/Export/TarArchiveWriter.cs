using System.Globalization;
using System.Text;
using RestoreTools.Engine.Native;
using RestoreTools.Engine.Paths;

namespace RestoreTools.Engine.Export;

/// <summary>
/// A walked tree as a POSIX tar (TarStreamWriter): names as the bytes the filesystem holds, symlinks
/// as symlinks, modes, mtimes and owners from lstat. File data is streamed straight from the
/// mounted filesystem; a file with holes is written in GNU tar's pax sparse format 1.0, so its
/// holes take no room in the archive and `tar -xf` (or this project's copy) restores them as holes.
/// </summary>
internal static class TarArchiveWriter
{
    public static void Write(IEnumerable<TreeEntry> entries, Stream output, ProgressTracker tracker, ExportOptionsBase options)
    {
        var writer = new TarStreamWriter(output);
        foreach (var e in entries)
        {
            tracker.Begin(e.RelativePath);
            char? type = e.Info.Kind switch
            {
                Stat.Kind.Directory => '5',
                Stat.Kind.File => '0',
                Stat.Kind.Symlink => '2',
                Stat.Kind.Fifo => '6',
                Stat.Kind.BlockDevice => '4',
                Stat.Kind.CharDevice => '3',
                _ => null,
            };
            if (type is null)
            {
                tracker.Error(e.RelativePath, "sockets cannot be archived", options);
                continue;
            }
            byte[] name = NameCodec.Encode(type == '5' ? e.RelativePath + "/" : e.RelativePath);
            byte[]? link = e.LinkTarget is null ? null : NameCodec.Encode(e.LinkTarget);
            int mode = e.Info.Mode & 0xFFF;
            // GNU tar's --xattrs records: SCHILY.xattr.NAME=VALUE, the value as its bytes.
            var xattrs = e.Xattrs is { Count: > 0 } xs ? xs.Select(x => ("SCHILY.xattr." + x.Name, x.Value)).ToList() : null;

            if (type == '0' && e.IsHardLink) type = '1'; // a hard link names the entry it shares its data with
            if (type != '0')
            {
                writer.WriteHeader(type.Value, name, link, mode, e.Info.Uid, e.Info.Gid, 0, e.Info.Mtime, xattrs);
                if (type == '5') tracker.Directory();
                else if (type is '2') tracker.Symlink();
                else tracker.File();
                continue;
            }

            // Open first: an unreadable file is reported and left out, the archive stays whole.
            FileData data;
            try { data = e.OpenData(); }
            catch (IOException ex)
            {
                tracker.Error(e.RelativePath, ex.Message, options);
                continue;
            }
            using (data)
            {
                if (!tracker.Fits(e.RelativePath, data.DataLength, data.IsSparse ? $"the data of a sparse file of {data.Size:N0}" : "its size", options))
                    continue;
                var counted = new CountingStream(data.Packed, tracker);
                if (data.IsSparse)
                {
                    var (header, map) = SparseHeader(name, data);
                    writer.WriteHeader('0', header, null, mode, e.Info.Uid, e.Info.Gid, map.Length + data.DataLength, e.Info.Mtime, [.. SparseRecords(name, data), .. xattrs ?? []]);
                    output.Write(map);
                    writer.WriteData(counted, data.DataLength, e.RelativePath);
                }
                else
                {
                    writer.WriteHeader('0', name, null, mode, e.Info.Uid, e.Info.Gid, data.Size, e.Info.Mtime, xattrs);
                    writer.WriteData(counted, data.Size, e.RelativePath);
                }
            }
            tracker.File();
        }
        writer.Finish();
    }

    /// <summary>
    /// GNU sparse 1.0: the header names the file dir/GNUSparseFile.0/name and the pax records carry
    /// the real name and size; the data starts with the map (count, then offset and length of each
    /// run, one decimal number a line, padded to 512 bytes) and goes on with the runs back to back.
    /// </summary>
    private static (byte[] Header, byte[] Map) SparseHeader(byte[] name, FileData data)
    {
        int slash = Array.LastIndexOf(name, (byte)'/');
        byte[] header = [.. name.AsSpan(0, slash + 1), .. "GNUSparseFile.0/"u8, .. name.AsSpan(slash + 1)];
        var runs = data.Map!.ToList();
        // A file that ends in a hole gets an empty run at its end, as GNU tar writes it, so the size comes back.
        if (runs.Count == 0 || runs[^1].Offset + runs[^1].Length < data.Size) runs.Add((data.Size, 0));
        var map = new StringBuilder();
        map.Append(runs.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (offset, length) in runs)
            map.Append(offset.ToString(CultureInfo.InvariantCulture)).Append('\n').Append(length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var text = Encoding.ASCII.GetBytes(map.ToString());
        var block = new byte[(text.Length + 511) / 512 * 512];
        text.CopyTo(block, 0);
        return (header, block);
    }

    private static IEnumerable<(string, byte[])> SparseRecords(byte[] name, FileData data) =>
    [
        ("GNU.sparse.major", "1"u8.ToArray()),
        ("GNU.sparse.minor", "0"u8.ToArray()),
        ("GNU.sparse.name", name),
        ("GNU.sparse.realsize", Encoding.ASCII.GetBytes(data.Size.ToString(CultureInfo.InvariantCulture))),
    ];
}
