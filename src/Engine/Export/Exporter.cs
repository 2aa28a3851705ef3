using System.IO.Compression;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>Chooses the writer for a format and wraps it in its compressor.</summary>
internal static class Exporter
{
    public static ExportResult Export(string localPath, string rootName, Stream output, ExportOptions options, IProgress<TransferProgress>? progress, CancellationToken ct, string restorePath)
    {
        var tracker = new ProgressTracker(progress) { Space = options.SpaceAvailable };
        var info = Stat.LstatInfo(localPath);
        if (options.Format == ExportFormat.Raw)
        {
            if (info.Kind != Stat.Kind.File)
                throw new RestoreException(RestoreErrorCode.NotAFile, $"'{restorePath}' is not a file: raw export takes one file; use tar or zip for a folder", restorePath);
            if (options.SpaceAvailable is { } space && info.Size > space)
                throw new RestoreException(RestoreErrorCode.WriteFailed,
                    $"'{restorePath}' is {info.Size:N0} bytes{(info.MayBeSparse ? " (sparse: raw writes its holes as zeros)" : "")} and the destination has {space:N0} free; use tar, which keeps holes out", restorePath);
            using var data = FileData.FromLocal(localPath, info);
            if (!data.IsSparse && output is IFileOutput direct && direct.TryWriteFile(data.Packed, 0, info.Size))
            {
                tracker.AddBytes(info.Size);
                tracker.File();
                tracker.Done();
                return tracker.Result();
            }
            using var source = new CountingStream(data.Dense(), tracker);
            // 128 KiB, as cat uses: a larger buffer overflows the CPU cache and a pipe takes 64 KiB at a time.
            source.CopyTo(output, 128 * 1024);
            tracker.File();
            tracker.Done();
            return tracker.Result();
        }

        var entries = TreeWalker.Walk(localPath, rootName, recurse: true, (p, r) => tracker.Error(p, r, options), ct, options.Xattrs);
        // TarWriter writes every header, data chunk and padding on its own: buffered, a 20,000-file
        // tar to a pipe takes ~3k writes instead of ~120k; 64 KiB is what a pipe holds (bench/).
        using var buffered = new BufferedStream(new NonClosingStream(output), 64 * 1024);
        output = buffered;
        switch (options.Format)
        {
            case ExportFormat.Tar:
                TarArchiveWriter.Write(entries, output, tracker, options);
                break;
            case ExportFormat.TarGz:
                using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                    TarArchiveWriter.Write(entries, gz, tracker, options);
                break;
            case ExportFormat.TarZst:
                using (var zst = new ZstdSharp.CompressionStream(output, 3, leaveOpen: true))
                    TarArchiveWriter.Write(entries, zst, tracker, options);
                break;
            case ExportFormat.Zip:
                ZipArchiveWriter.Write(entries, output, tracker, options);
                break;
            default:
                throw new RestoreException(RestoreErrorCode.NotSupported, $"format {options.Format} is not supported", restorePath);
        }
        buffered.Flush();
        tracker.Done();
        return tracker.Result();
    }

    public static ExportResult Copy(string localPath, string rootName, string destination, CopyOptions options, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var tracker = new ProgressTracker(progress);
        string root = CopyRoot(destination, rootName);
        var rootInfo = Stat.LstatInfo(localPath);
        var rootEntry = new TreeEntry("", localPath, rootInfo, rootInfo.Kind == Stat.Kind.Symlink ? Mounting.Ntfs3gMount.InVolume(localPath, Stat.ReadLink(localPath)) : null);
        if (options.Xattrs) rootEntry = TreeWalker.WithXattrs(rootEntry, (p, r) => tracker.Error(p, r, options));
        // Without Recurse a folder is made, empty, as Copy-Item does.
        var entries = options.Recurse && rootInfo.Kind == Stat.Kind.Directory
            ? TreeWalker.Walk(localPath, "", recurse: true, (p, r) => tracker.Error(p, r, options), ct, options.Xattrs).Prepend(rootEntry)
            : [rootEntry];
        SafeTreeWriter.Copy(entries, root, tracker, options);
        tracker.Done();
        return tracker.Result();
    }

    /// <summary>A copy whose entries come from an export tar (a remote agent's), written as a local copy is.</summary>
    public static ExportResult CopyFromTar(Stream tar, string rootName, string destination, CopyOptions options, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var tracker = new ProgressTracker(progress);
        string root = CopyRoot(destination, rootName);
        var entries = TarTreeReader.Read(tar, rootName, ct);
        // Without Recurse only the item itself: stop reading after its own entry.
        SafeTreeWriter.Copy(options.Recurse ? entries : entries.Take(1), root, tracker, options);
        tracker.Done();
        return tracker.Result();
    }

    /// <summary>As cp and Copy-Item: into an existing folder under the item's own name, otherwise to that path.</summary>
    private static string CopyRoot(string destination, string rootName)
    {
        // The name may come from a remote agent's answer: one plain name, or the copy could land beside the destination.
        if (rootName is "." or ".." || rootName.Contains('/') || rootName.Contains('\0'))
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{rootName}' cannot name the copy: one plain name is needed (no '/', NUL, '.' or '..')", destination);
        string full = Path.GetFullPath(destination);
        string root = Directory.Exists(full) && rootName.Length > 0 ? Path.Combine(full, rootName) : full;
        string parent = Path.GetDirectoryName(root)!;
        if (!Directory.Exists(parent))
            throw new RestoreException(RestoreErrorCode.WriteFailed, $"destination folder '{parent}' does not exist", destination);
        return root;
    }
}
