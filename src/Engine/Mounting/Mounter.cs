using System.Collections.Concurrent;
using FileSystemInfo = RestoreTools.Engine.FileSystems.FileSystemInfo;
using RestoreTools.Engine.Native;
using RestoreTools.Engine.State;

namespace RestoreTools.Engine.Mounting;

/// <summary>
/// Mounts buckets read-only under MountRoot on first use, once per bucket however many
/// threads ask at the same time, and unmounts them on request or when the engine ends. Every
/// mount goes into the engine's owner record, and its folders go again when it is unmounted.
/// </summary>
/// <param name="inRestoreVm">Inside a restore VM: a type its kernel lacks cannot be helped by starting one.</param>
/// <param name="warn">The engine's warnings: why a user-space driver answered EIO.</param>
internal sealed class Mounter(string mountRoot, OwnerRecord record, bool inRestoreVm = false, Action<string>? warn = null)
{
    private readonly ConcurrentDictionary<string, object> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MountRecord> _mounts = new(StringComparer.Ordinal);

    public sealed record MountRecord(string BucketPath, string Device, string MountPoint, string FileSystem)
    {
        /// <summary>Mounted on a writable overlay with journal or log replay allowed.</summary>
        public bool Replay { get; init; }

        /// <summary>btrfs, mounted at its top level: the default subvolume's path from there ("/" the top level itself).</summary>
        public string? DefaultSubvolume { get; init; }

        /// <summary>The topmost folder this mount made (null: the mount point was there already).</summary>
        internal string? Top { get; init; }

        /// <summary>The user-space server of this mount (ntfs-3g, the FAT reader), when it is one.</summary>
        internal IServedMount? Fuse { get; init; }
    }

    public MountRecord? Get(string bucketPath) => _mounts.GetValueOrDefault(bucketPath);

    public IReadOnlyCollection<MountRecord> All => _mounts.Values.ToList();

    public MountRecord Mount(string bucketPath, string device, FileSystemInfo? probed, string mountPoint)
    {
        lock (_locks.GetOrAdd(bucketPath, _ => new object()))
        {
            if (_mounts.TryGetValue(bucketPath, out var existing)) return existing;
            string? probedType = probed?.Type;
            // A probed type this kernel has no driver for fails the same with every option: say so plainly.
            if (probedType is not null && !MountOptions.DriversFor(probedType).Any(CanUse))
            {
                // A layout no Linux reads is not helped by a restore VM either.
                string why = probedType == "ufs" && MountOptions.UfsLayoutNote(probed!.Version, probed.SuperblockOffset) is { } note
                    ? $"ufs: {note}"
                    : inRestoreVm ? $"{probedType}: the restore VM's kernel cannot mount it" : $"{probedType}: this host cannot mount it; use Start-RestoreVM";
                throw new RestoreException(RestoreErrorCode.MountFailed, $"mounting '{bucketPath}' failed: {why}", bucketPath);
            }

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
            // The driver says in the kernel log why it refused (ufs: "bad magic number"); errno alone does not.
            using var kernelLog = probedType is null ? null : KernelLog.FromNow();
            foreach (var (type, options) in Candidates(probed, replay))
            {
                string attempt = type == "ufs" && options is not null ? options : type;
                tried.Add(attempt);
                if (UserSpaceDrivers.Handles(type))
                {
                    // FUSE, where it can serve; otherwise the kernel's drivers come next.
                    if (UserSpaceDrivers.TryMount(type, device, mountPoint, warn is null ? null : w => warn($"'{bucketPath}': {w}"), out var why) is { } fuse)
                    {
                        var served = new MountRecord(bucketPath, device, mountPoint, type) { Top = top, Fuse = fuse };
                        _mounts[bucketPath] = served;
                        return served;
                    }
                    failures.Add(why!);
                    continue;
                }
                kernelLog?.ReadNew();
                int errno = MountCalls.TryMount(device, mountPoint, type, MountCalls.ReadOnlyFlags, options);
                if (errno == Sys.ENOENT && !Directory.Exists(mountPoint))
                {
                    // The folder went in between (a clean-up of an earlier process's empty folders): once more.
                    top ??= MountFolders.Create(mountPoint, mountRoot);
                    errno = MountCalls.TryMount(device, mountPoint, type, MountCalls.ReadOnlyFlags, options);
                }
                if (errno == 0)
                {
                    var mounted = new MountRecord(bucketPath, device, mountPoint, type)
                    {
                        Top = top,
                        Replay = replay && type is "ext3" or "ext4" or "xfs" or "btrfs",
                        DefaultSubvolume = type == "btrfs" ? BtrfsIoctl.DefaultSubvolume(mountPoint)?.Path : null,
                    };
                    _mounts[bucketPath] = mounted;
                    return mounted;
                }
                if (probedType is not null)
                {
                    // The superblock named the type: every refusal is the answer, with the driver's own words.
                    string said = KernelSays(kernelLog, type, device);
                    failures.Add($"{attempt}: {Describe(errno)}{(said.Length > 0 ? "; kernel: " + said : "")}");
                }
                // ENODEV: no such driver; EINVAL: not this type. Others are worth reporting.
                else if (errno != Sys.ENODEV && errno != Sys.EINVAL)
                    failures.Add($"{type}: {NativeException.Describe(errno)}");
            }
            record.Unmounted(mountPoint);
            MountFolders.Remove(mountPoint, top, mountRoot);
            string reason;
            if (probedType is null)
            {
                reason = $"no supported filesystem (tried {string.Join(", ", tried)})";
                if (failures.Count > 0) reason += "; " + string.Join("; ", failures);
            }
            else
            {
                reason = $"{probedType} did not mount (tried {string.Join("; ", failures)})";
                if (probedType == "ufs" && MountOptions.UfsLayoutNote(probed!.Version, probed.SuperblockOffset) is { } note)
                    reason += ": " + note;
            }
            throw new RestoreException(RestoreErrorCode.MountFailed, $"mounting '{bucketPath}' failed: {reason}", bucketPath);
        }
    }

    /// <summary>"Invalid argument" and such, as the C library says it, without the number.</summary>
    private static string Describe(int errno) => System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>The kernel's lines since the last read that name the driver or the device, the last few, joined.</summary>
    private static string KernelSays(KernelLog? log, string type, string device)
    {
        if (log is null) return "";
        string dev = Path.GetFileName(device);
        var lines = log.ReadNew()
            .Where(l => l.Contains(type, StringComparison.OrdinalIgnoreCase) || (dev.Length > 0 && l.Contains(dev, StringComparison.Ordinal)))
            .TakeLast(3).Select(l => l.Length > 300 ? l[..300] + "..." : l);
        return string.Join(" / ", lines);
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

    /// <summary>Driver and mount data to try, in order.</summary>
    private static IEnumerable<(string Type, string? Options)> Candidates(FileSystemInfo? probed, bool replay)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (probed is not null)
        {
            foreach (var t in MountOptions.DriversFor(probed.Type))
            {
                // A driver this system lacks is not tried: its ENODEV would only hide why the others refused.
                if (!seen.Add(t) || !CanUse(t)) continue;
                if (t == "ufs")
                    foreach (var o in MountOptions.UfsTypes(probed.Version, probed.SuperblockOffset)) yield return (t, o);
                else
                    yield return (t, MountOptions.For(t, replay));
            }
            yield break; // the superblock named its type: trying others only hides the real error
        }
        foreach (var t in ProcFilesystems.BlockFilesystems())
            if (seen.Add(t)) yield return (t, MountOptions.For(t, replay));
    }

    /// <summary>Whether this system has the driver: a user-space one that can serve, or the kernel's.</summary>
    private static bool CanUse(string type) => UserSpaceDrivers.Handles(type) ? UserSpaceDrivers.CanServe(type) : KernelDrivers.CanMount(type);

    private static bool IsEmptyOrMissing(string dir) => !Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any();
}
