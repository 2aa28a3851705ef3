using System.IO.Compression;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Zip through System.IO.Compression (names as their bytes: ZipNameEncoding), streamable to a socket (data descriptors, no seeking).
/// Unix modes go in the external attributes as Info-ZIP does, so unzip restores them, and a
/// symlink is stored as its target text with S_IFLNK, which unzip turns back into a link.
/// </summary>
internal static class ZipArchiveWriter
{
    private static readonly DateTimeOffset ZipMin = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset ZipMax = new(2107, 12, 31, 23, 59, 58, TimeSpan.Zero);

    public static void Write(IEnumerable<TreeEntry> entries, Stream output, ProgressTracker tracker, ExportOptionsBase options)
    {
        var names = new ZipNameEncoding();
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true, names);
        foreach (var e in entries)
        {
            tracker.Begin(e.RelativePath);
            int typeBits = e.Info.Kind switch
            {
                Stat.Kind.Directory => 0x4000,
                Stat.Kind.File => 0x8000,
                Stat.Kind.Symlink => 0xA000,
                _ => 0,
            };
            if (typeBits == 0)
            {
                tracker.Error(e.RelativePath, "special files cannot be stored in zip", options);
                continue;
            }
            FileData? data = null;
            if (e.Info.Kind == Stat.Kind.File)
            {
                try { data = e.OpenData(); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    tracker.Error(e.RelativePath, ex.Message, options);
                    continue;
                }
                // Zip has no holes: a sparse file is written whole, so its whole size must fit first.
                if (!tracker.Fits(e.RelativePath, data.Size, data.IsSparse ? $"a sparse file with {data.DataLength:N0} bytes of data, written whole: zip has no holes, tar keeps them" : "its size", options))
                {
                    data.Dispose();
                    continue;
                }
            }
            using (data)
            {
                string name = e.Info.Kind == Stat.Kind.Directory ? e.RelativePath + "/" : e.RelativePath;
                names.Next(name);
                var entry = zip.CreateEntry(name, e.Info.Kind == Stat.Kind.File ? CompressionLevel.Fastest : CompressionLevel.NoCompression);
                var mtime = e.Info.Mtime;
                entry.LastWriteTime = mtime < ZipMin ? ZipMin : mtime > ZipMax ? ZipMax : mtime;
                entry.ExternalAttributes = (typeBits | (e.Info.Mode & 0xFFF)) << 16;
                if (e.Info.Kind == Stat.Kind.Directory) { tracker.Directory(); continue; }
                using var stream = entry.Open();
                if (data is not null) { new CountingStream(data.Dense(), tracker).CopyTo(stream, 1 << 20); tracker.File(); }
                else { stream.Write(System.Text.Encoding.UTF8.GetBytes(e.LinkTarget!)); tracker.Symlink(); }
            }
        }
    }
}
