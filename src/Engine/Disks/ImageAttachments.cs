using RestoreTools.Engine.Native;
using RestoreTools.Engine.State;

namespace RestoreTools.Engine.Disks;

/// <summary>
/// Image files this engine attached to read-only loop devices. They are disks like the
/// virtio ones; they are detached on request and when the engine is disposed. Each loop device
/// is held open for the life of its attachment (it is bound with autoclear) and written down in
/// the engine's owner record, so a process that dies leaves nothing a later one cannot clean.
/// </summary>
internal sealed class ImageAttachments(EngineOptions options, DeviceNodeResolver nodes, OwnerRecord record)
{
    private sealed record Attachment(DiskDevice Disk, LoopDevice Loop, string Marker, FuseImageExport? Export);

    private readonly Dictionary<string, Attachment> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);
    // Held only for bookkeeping: opening the image and binding the loop happen outside it, so a
    // slow or hostile image path can never hold up another request.
    private readonly Lock _gate = new();

    public IReadOnlyList<DiskDevice> List()
    {
        lock (_gate) return _byName.Values.Select(a => a.Disk).OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
    }

    public DiskDevice? Get(string name)
    {
        lock (_gate) return _byName.GetValueOrDefault(name)?.Disk;
    }

    public DiskDevice Attach(string imagePath, string? name, Func<string, bool> nameTaken)
    {
        string full = Path.GetFullPath(imagePath, options.ImageRoot ?? Environment.CurrentDirectory);
        name ??= Path.GetFileName(full);
        ValidateName(name);
        using var backing = ImageFileOpener.Open(imagePath, options.ImageRoot);

        lock (_gate)
        {
            if (_byName.ContainsKey(name) || _reserved.Contains(name) || nameTaken(name))
                throw new RestoreException(RestoreErrorCode.NameInUse, $"a disk named '{name}' already exists", name);
            _reserved.Add(name);
        }
        FuseImageExport? export = null;
        try
        {
            // qcow2, vmdk, vhdx, vdi and vhd are read through qemu's block layer (FUSE), never as raw bytes.
            string format = ImageFormat.Detect(backing, imagePath);
            if (format != ImageFormat.Raw)
                export = FuseImageExport.Start(backing, format, Path.Combine(Path.GetDirectoryName(options.MountRoot)!, "fuse"), name, imagePath);
            string marker = "restoretools:" + Native.SecureRandom.Hex(12);
            LoopDevice loop;
            try
            {
                using var exported = export?.OpenRead();
                loop = LoopDevices.Attach(exported ?? backing, marker, options.DevRoot);
            }
            catch (NativeException ex)
            {
                throw new RestoreException(RestoreErrorCode.AttachFailed, $"attaching '{imagePath}' failed: {ex.Message}", imagePath, ex);
            }
            record.LoopAttached(loop.Path, marker);
            string sysDir = Path.Combine(options.SysRoot, "block", loop.KernelName);
            try
            {
                // A free loop device can still carry partitions added to it by BLKPG in an earlier life.
                RemovePartitions(loop.Path, sysDir);
                long sectors = Sysfs.ReadLong(Path.Combine(sysDir, "size")) ?? 0;
                var disk = new DiskDevice(name, loop.KernelName, sysDir, nodes.Resolve(sysDir), sectors * 512, "image", full);
                lock (_gate) _byName[name] = new Attachment(disk, loop, marker, export);
                return disk;
            }
            catch
            {
                try { loop.Detach(); record.LoopDetached(marker); } catch (NativeException) { }
                throw;
            }
        }
        catch
        {
            export?.Dispose();
            throw;
        }
        finally
        {
            lock (_gate) _reserved.Remove(name);
        }
    }

    /// <summary>Releases the loop device; the caller has unmounted the disk's buckets.</summary>
    public void Detach(string name)
    {
        Attachment a;
        lock (_gate)
        {
            if (!_byName.TryGetValue(name, out a!))
                throw new RestoreException(RestoreErrorCode.DiskNotFound, $"no attached image named '{name}'", name);
            try
            {
                // Without LO_FLAGS_PARTSCAN the kernel keeps BLKPG partitions after the loop is cleared.
                RemovePartitions(a.Disk.DevicePath, a.Disk.SysfsDir);
                a.Loop.Detach();
            }
            catch (NativeException ex)
            {
                throw new RestoreException(RestoreErrorCode.DetachFailed, $"detaching '{name}' failed: {ex.Message}", name, ex);
            }
            _byName.Remove(name);
        }
        record.LoopDetached(a.Marker);
        a.Export?.Dispose();
    }

    internal static void RemovePartitions(string device, string sysDir)
    {
        var numbers = new List<int>();
        foreach (var p in Sysfs.Partitions(sysDir)) numbers.Add(p.Number);
        foreach (int number in numbers) BlockDeviceIoctl.DeletePartition(device, number);
    }

    internal static void ValidateName(string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{name}' cannot name a disk: no '/', NUL, '.' or '..'", name);
    }
}
