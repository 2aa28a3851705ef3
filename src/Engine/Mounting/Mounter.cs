using System.Collections.Concurrent;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Mounting;

/// <summary>
/// Mounts buckets read-only under MountRoot on first use, once per bucket however many
/// threads ask at the same time, and unmounts them on request or when the engine ends.
/// </summary>
internal sealed class Mounter
{
    private readonly ConcurrentDictionary<string, object> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MountRecord> _mounts = new(StringComparer.Ordinal);

    public sealed record MountRecord(string BucketPath, string Device, string MountPoint, string FileSystem);

    public MountRecord? Get(string bucketPath) => _mounts.GetValueOrDefault(bucketPath);

    public IReadOnlyCollection<MountRecord> All => _mounts.Values.ToList();

    public MountRecord Mount(string bucketPath, string device, string? probedType, string mountPoint)
    {
        lock (_locks.GetOrAdd(bucketPath, _ => new object()))
        {
            if (_mounts.TryGetValue(bucketPath, out var existing)) return existing;

            // Another engine (a second pwsh, an agent) may use the same disk name: never take over or
            // unmount its mount, pick a free sibling folder instead.
            string basePoint = mountPoint;
            for (int n = 2; ProcFilesystems.IsMountPoint(mountPoint) || !IsEmptyOrMissing(mountPoint); n++)
                mountPoint = $"{basePoint}~{n}";
            Directory.CreateDirectory(mountPoint);

            var tried = new List<string>();
            var failures = new List<string>();
            foreach (var type in Candidates(probedType))
            {
                tried.Add(type);
                int errno = MountCalls.TryMount(device, mountPoint, type, MountCalls.ReadOnlyFlags, MountOptions.For(type));
                if (errno == 0)
                {
                    var record = new MountRecord(bucketPath, device, mountPoint, type);
                    _mounts[bucketPath] = record;
                    return record;
                }
                // ENODEV: no such driver; EINVAL: not this type. Others are worth reporting.
                if (errno != Sys.ENODEV && errno != Sys.EINVAL)
                    failures.Add($"{type}: {NativeException.Describe(errno)}");
            }
            TryRemoveDir(mountPoint);
            string reason = probedType is null
                ? $"no supported filesystem (tried {string.Join(", ", tried)})"
                : $"{probedType} did not mount (tried {string.Join(", ", tried)})";
            if (failures.Count > 0) reason += "; " + string.Join("; ", failures);
            throw new RestoreException(RestoreErrorCode.MountFailed, $"mounting '{bucketPath}' failed: {reason}", bucketPath);
        }
    }

    public void Unmount(string bucketPath)
    {
        lock (_locks.GetOrAdd(bucketPath, _ => new object()))
        {
            if (!_mounts.TryGetValue(bucketPath, out var record)) return;
            try { MountCalls.Unmount(record.MountPoint); }
            catch (NativeException ex)
            {
                throw new RestoreException(RestoreErrorCode.UnmountFailed, $"unmounting '{bucketPath}' failed: {ex.Message}", bucketPath, ex);
            }
            _mounts.TryRemove(bucketPath, out _);
            TryRemoveDir(record.MountPoint);
        }
    }

    private IEnumerable<string> Candidates(string? probedType)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (probedType is not null)
        {
            foreach (var t in MountOptions.DriversFor(probedType))
                if (seen.Add(t)) yield return t;
            yield break; // the superblock named its type: trying others only hides the real error
        }
        foreach (var t in ProcFilesystems.BlockFilesystems())
            if (seen.Add(t)) yield return t;
    }

    private static bool IsEmptyOrMissing(string dir) => !Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any();

    private static void TryRemoveDir(string dir)
    {
        try { if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir); }
        catch (IOException) { }
    }
}
