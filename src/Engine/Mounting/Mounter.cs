using System.Collections.Concurrent;
using RestoreTools.Engine.Native;
using RestoreTools.Engine.State;

namespace RestoreTools.Engine.Mounting;

/// <summary>
/// Mounts buckets read-only under MountRoot on first use, once per bucket however many
/// threads ask at the same time, and unmounts them on request or when the engine ends. Every
/// mount goes into the engine's owner record, and its folders go again when it is unmounted.
/// </summary>
internal sealed class Mounter(string mountRoot, OwnerRecord record)
{
    private readonly ConcurrentDictionary<string, object> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MountRecord> _mounts = new(StringComparer.Ordinal);

    public sealed record MountRecord(string BucketPath, string Device, string MountPoint, string FileSystem)
    {
        /// <summary>Mounted on a writable overlay with journal or log replay allowed.</summary>
        public bool Replay { get; init; }

        /// <summary>The topmost folder this mount made (null: the mount point was there already).</summary>
        internal string? Top { get; init; }

        /// <summary>The ntfs-3g process serving this mount (FUSE), when it is one.</summary>
        internal Ntfs3gMount? Fuse { get; init; }
    }

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
            string? top = MountFolders.Create(mountPoint, mountRoot);
            // Written down before mounting: a process killed right after mount(2) still leaves a record.
            var dev = DeviceNodes.GetDeviceNumber(device);
            record.Mounted(mountPoint, dev is { } d ? $"{d.Major}:{d.Minor}" : "", top);

            var tried = new List<string>();
            var failures = new List<string>();
            // Only a writable device (a restore VM's overlay; host loops are read-only) may take a replay.
            bool replay = !BlockDeviceIoctl.IsReadOnly(device);
            foreach (var type in Candidates(probedType))
            {
                tried.Add(type);
                if (type == Ntfs3gMount.Type)
                {
                    // FUSE, where ntfs-3g is installed; otherwise the kernel's drivers come next.
                    if (Ntfs3gMount.TryMount(device, mountPoint, out var why) is { } fuse)
                    {
                        var served = new MountRecord(bucketPath, device, mountPoint, type) { Top = top, Fuse = fuse };
                        _mounts[bucketPath] = served;
                        return served;
                    }
                    failures.Add(why!);
                    continue;
                }
                int errno = MountCalls.TryMount(device, mountPoint, type, MountCalls.ReadOnlyFlags, MountOptions.For(type, replay));
                if (errno == Sys.ENOENT && !Directory.Exists(mountPoint))
                {
                    // The folder went in between (a clean-up of an earlier process's empty folders): once more.
                    top ??= MountFolders.Create(mountPoint, mountRoot);
                    errno = MountCalls.TryMount(device, mountPoint, type, MountCalls.ReadOnlyFlags, MountOptions.For(type, replay));
                }
                if (errno == 0)
                {
                    var mounted = new MountRecord(bucketPath, device, mountPoint, type) { Top = top, Replay = replay && type is "ext3" or "ext4" or "xfs" };
                    _mounts[bucketPath] = mounted;
                    return mounted;
                }
                // ENODEV: no such driver; EINVAL: not this type. Others are worth reporting.
                if (errno != Sys.ENODEV && errno != Sys.EINVAL)
                    failures.Add($"{type}: {NativeException.Describe(errno)}");
            }
            record.Unmounted(mountPoint);
            MountFolders.Remove(mountPoint, top, mountRoot);
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
            if (!_mounts.TryGetValue(bucketPath, out var mounted)) return;
            try { MountCalls.Unmount(mounted.MountPoint); }
            catch (NativeException ex)
            {
                throw new RestoreException(RestoreErrorCode.UnmountFailed, $"unmounting '{bucketPath}' failed: {ex.Message}", bucketPath, ex);
            }
            mounted.Fuse?.Stop();
            _mounts.TryRemove(bucketPath, out _);
            record.Unmounted(mounted.MountPoint);
            MountFolders.Remove(mounted.MountPoint, mounted.Top, mountRoot);
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
}
