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
}
