using System.IO.Compression;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>One root of an export: where it is, its name at the archive's top ("" for a bucket's entries at the top), its restore path.</summary>
internal readonly record struct ExportRoot(string LocalPath, string RootName, string RestorePath);

/// <summary>Chooses the writer for a format and wraps it in its compressor.</summary>
internal static class Exporter
{
    public static ExportResult Export(string localPath, string rootName, Stream output, ExportOptions options, IProgress<TransferProgress>? progress, CancellationToken ct, string restorePath) =>
        Export([new ExportRoot(localPath, rootName, restorePath)], output, options, progress, ct);

    /// <summary>
    /// Several roots into one archive, one after the other, each under its RootName (the caller has
    /// checked that the names differ). Entries are walked as they are written: memory stays flat
    /// however many files the roots hold.
    /// </summary>
    public static ExportResult Export(IReadOnlyList<ExportRoot> roots, Stream output, ExportOptions options, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var tracker = new ProgressTracker(progress) { Space = options.SpaceAvailable };
        var filter = NameFilter.From(options);
        if (options.Format == ExportFormat.Raw)
        {
            if (roots.Count != 1)
                throw new RestoreException(RestoreErrorCode.NotSupported, $"raw export takes one file, not {roots.Count} items: use tar or zip for several", roots.Count > 0 ? roots[0].RestorePath : null);
            var (localPath, rootName, restorePath) = roots[0];
            var info = Stat.LstatInfo(localPath);
            if (info.Kind != Stat.Kind.File)
                throw new RestoreException(RestoreErrorCode.NotAFile, $"'{restorePath}' is not a file: raw export takes one file; use tar or zip for a folder", restorePath);
            if (options.SpaceAvailable is { } space && info.Size > space)
                throw new RestoreException(RestoreErrorCode.WriteFailed,
                    $"'{restorePath}' is {info.Size:N0} bytes{(info.MayBeSparse ? " (sparse: raw writes its holes as zeros)" : "")} and the destination has {space:N0} free; use tar, which keeps holes out", restorePath);
            if (filter is not null && !filter.Keeps(rootName.Length > 0 ? rootName : Path.GetFileName(localPath)))
                throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{restorePath}' is left out by the include/exclude wildcards: nothing to export", restorePath);
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

        var entries = ReadAhead.Files(roots.SelectMany(r => TreeWalker.Walk(r.LocalPath, r.RootName, recurse: true, (p, e) => tracker.Error(p, e, options), ct, options.Xattrs, filter)));
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
                throw new RestoreException(RestoreErrorCode.NotSupported, $"format {options.Format} is not supported", roots[0].RestorePath);
        }
        buffered.Flush();
        tracker.Done();
        return tracker.Result();
    }

    public static ExportResult Copy(string localPath, string rootName, string destination, CopyOptions options, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var tracker = new ProgressTracker(progress);
        var filter = NameFilter.From(options);
        var rootInfo = Stat.LstatInfo(localPath);
        // -Container:$false flattens a folder's files into the destination; a file is copied as always.
        bool flat = !options.Container && rootInfo.Kind == Stat.Kind.Directory;
        string root = flat ? FlatRoot(destination) : CopyRoot(destination, rootName);
        if (filter is not null && rootInfo.Kind != Stat.Kind.Directory && !filter.Keeps(rootName.Length > 0 ? rootName : Path.GetFileName(localPath)))
        {
            tracker.Done();
            return tracker.Result();
        }
        var rootEntry = new TreeEntry("", localPath, rootInfo, rootInfo.Kind == Stat.Kind.Symlink ? Mounting.Ntfs3gMount.InVolume(localPath, Stat.ReadLink(localPath)) : null);
        if (options.Xattrs) rootEntry = TreeWalker.WithXattrs(rootEntry, (p, r) => tracker.Error(p, r, options));
        // Without Recurse a folder is made, empty, as Copy-Item does.
        var entries = options.Recurse && rootInfo.Kind == Stat.Kind.Directory
            ? ReadAhead.Files(TreeWalker.Walk(localPath, "", recurse: true, (p, r) => tracker.Error(p, r, options), ct, options.Xattrs, filter).Prepend(rootEntry))
            : [rootEntry];
        if (flat) entries = FlatCopy.Flatten(entries, tracker, options);
        SafeTreeWriter.Copy(entries, root, tracker, options);
        tracker.Done();
        return tracker.Result();
    }

    /// <summary>A copy whose entries come from an export tar (a remote agent's), written as a local copy is.</summary>
    public static ExportResult CopyFromTar(Stream tar, string rootName, string destination, CopyOptions options, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var tracker = new ProgressTracker(progress);
        // The caller asks for a flat copy only of a folder (AgentClient.Copy knows the item's type).
        string root = options.Container ? CopyRoot(destination, rootName) : FlatRoot(destination);
        var entries = TarTreeReader.Read(tar, rootName, ct);
        // Without Recurse only the item itself: stop reading after its own entry.
        if (!options.Recurse) entries = entries.Take(1);
        // The agent filtered already; filtered again here, so an agent that did not (an old or a
        // hostile one) still writes nothing the wildcards leave out.
        if (NameFilter.From(options) is { } filter)
            entries = entries.Where(e => e.Info.Kind == Stat.Kind.Directory
                || filter.Keeps(e.RelativePath.Length > 0 ? NameFilter.NameOf(e.RelativePath) : rootName));
        if (!options.Container) entries = FlatCopy.Flatten(entries, tracker, options);
        SafeTreeWriter.Copy(entries, root, tracker, options);
        tracker.Done();
        return tracker.Result();
    }

    /// <summary>A flat copy's root: the destination folder itself (made if it is missing), never a folder below it.</summary>
    private static string FlatRoot(string destination)
    {
        string full = Path.GetFullPath(destination);
        string parent = Path.GetDirectoryName(full.TrimEnd('/')) ?? "/";
        if (!Directory.Exists(parent))
            throw new RestoreException(RestoreErrorCode.WriteFailed, $"destination folder '{parent}' does not exist", destination);
        return full;
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
