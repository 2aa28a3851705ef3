using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;

namespace RestoreTools.Engine;

/// <summary>
/// The one interface behind every face: the module's local mode, the agent's endpoints and
/// the module's remote client all speak it. Restore paths look like /disk/type/component/path.
/// </summary>
public interface IRestoreEngine : IDisposable
{
    /// <summary>Disks: virtio disks named by serial, and images this engine attached.</summary>
    IReadOnlyList<RestoreDisk> GetDisks();

    /// <summary>Attaches an image file read-only on a loop device; name defaults to the file name.</summary>
    RestoreDisk AttachImage(string imagePath, string? name = null);

    /// <summary>Unmounts the image's buckets and releases its loop device.</summary>
    void DetachImage(string diskName);

    /// <summary>Every bucket of one disk, or of all disks; a bucket that fails to probe carries its Error.</summary>
    IReadOnlyList<RestoreBucket> GetBuckets(string? diskName = null);

    /// <summary>One bucket by its path /disk/type/component.</summary>
    RestoreBucket GetBucket(string bucketPath);

    /// <summary>Mounts a bucket read-only (once, however many callers ask).</summary>
    RestoreBucket Mount(string bucketPath);

    /// <summary>Unmounts a bucket; a bucket that is not mounted is left as it is.</summary>
    RestoreBucket Unmount(string bucketPath);

    /// <summary>
    /// Resolves a restore path. A partial path (/, /disk, /disk/type) lists the next level;
    /// a full path mounts its bucket on demand and gives the local path inside that filesystem.
    /// </summary>
    ResolvedPath Resolve(string restorePath);

    /// <summary>One item: a file, folder or link inside a bucket, or a disk, type or component.</summary>
    RestoreItem GetItem(string restorePath);

    /// <summary>
    /// The entries of a folder, streamed as they are read (constant memory for any folder size).
    /// At partial paths the entries are disks, bucket types or components. Symlinks are entries, never followed.
    /// </summary>
    IEnumerable<RestoreItem> List(string restorePath, CancellationToken cancellationToken = default);

    /// <summary>A file's bytes from offset, at most length of them.</summary>
    Stream OpenRead(string restorePath, long offset = 0, long? length = null);

    /// <summary>Writes a file or a tree to output as an archive (or a single file raw), in constant memory.</summary>
    ExportResult Export(string restorePath, Stream output, ExportOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes several files and trees to output as ONE archive, each under its own item name at the
    /// archive's top, as `tar -cf x.tar etc/hosts etc/passwd` keeps basenames (a bucket's root under
    /// its component name, e.g. "1"). The paths may lie in different buckets and disks. Two items
    /// with one name are refused (NameInUse) before anything is written. One path is exactly
    /// Export(restorePath, ...); raw takes one file only.
    /// </summary>
    ExportResult Export(IReadOnlyList<string> restorePaths, Stream output, ExportOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Copies a file or a tree to a local folder, keeping modes, mtimes and symlinks as links.</summary>
    ExportResult Copy(string restorePath, string destination, CopyOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default);
}
