using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Disks;

/// <summary>
/// Image files this engine attached to read-only loop devices. They are disks like the
/// virtio ones; they are detached on request and when the engine is disposed.
/// </summary>
internal sealed class ImageAttachments(EngineOptions options, DeviceNodeResolver nodes)
{
    private readonly Dictionary<string, DiskDevice> _byName = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public IReadOnlyList<DiskDevice> List()
    {
        lock (_gate) return _byName.Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
    }

    public DiskDevice? Get(string name)
    {
        lock (_gate) return _byName.GetValueOrDefault(name);
    }

    public DiskDevice Attach(string imagePath, string? name, Func<string, bool> nameTaken)
    {
        string full = Path.GetFullPath(imagePath);
        if (!File.Exists(full) && !IsBlockDevice(full))
            throw new RestoreException(RestoreErrorCode.ImageNotFound, $"image '{imagePath}' not found", imagePath);
        name ??= Path.GetFileName(full);
        ValidateName(name);

        lock (_gate)
        {
            if (_byName.ContainsKey(name) || nameTaken(name))
                throw new RestoreException(RestoreErrorCode.NameInUse, $"a disk named '{name}' already exists", name);

            string loop;
            try { loop = LoopDevices.Attach(full, options.DevRoot); }
            catch (NativeException ex)
            {
                throw new RestoreException(RestoreErrorCode.AttachFailed, $"attaching '{imagePath}' failed: {ex.Message}", imagePath, ex);
            }
            string kname = Path.GetFileName(loop);
            string sysDir = Path.Combine(options.SysRoot, "block", kname);
            try
            {
                // A free loop device can still carry partitions added to it by BLKPG in an earlier life.
                RemovePartitions(loop, sysDir);
                long sectors = Sysfs.ReadLong(Path.Combine(sysDir, "size")) ?? 0;
                var disk = new DiskDevice(name, kname, sysDir, nodes.Resolve(sysDir), sectors * 512, "image", full);
                _byName[name] = disk;
                return disk;
            }
            catch
            {
                LoopDevices.Detach(loop);
                throw;
            }
        }
    }

    /// <summary>Releases the loop device; the caller has unmounted the disk's buckets.</summary>
    public void Detach(string name)
    {
        DiskDevice disk;
        lock (_gate)
        {
            if (!_byName.TryGetValue(name, out disk!))
                throw new RestoreException(RestoreErrorCode.DiskNotFound, $"no attached image named '{name}'", name);
            try
            {
                // Without LO_FLAGS_PARTSCAN the kernel keeps BLKPG partitions after LOOP_CLR_FD.
                RemovePartitions(disk.DevicePath, disk.SysfsDir);
                LoopDevices.Detach(disk.DevicePath);
            }
            catch (NativeException ex)
            {
                throw new RestoreException(RestoreErrorCode.DetachFailed, $"detaching '{name}' failed: {ex.Message}", name, ex);
            }
            _byName.Remove(name);
        }
    }

    private static void RemovePartitions(string device, string sysDir)
    {
        foreach (var (number, _) in Sysfs.Partitions(sysDir))
            BlockDeviceIoctl.DeletePartition(device, number);
    }

    private static bool IsBlockDevice(string path) => DeviceNodes.GetDeviceNumber(path) is not null;

    internal static void ValidateName(string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{name}' cannot name a disk: no '/', NUL, '.' or '..'", name);
    }
}
