namespace RestoreTools.Engine.Disks;

/// <summary>
/// Finds virtio disks (/sys/block/vd*) and names each by its serial, as the restore VM's host
/// sets serial=&lt;image name&gt;. A disk whose serial cannot be read is skipped with a warning.
/// </summary>
internal sealed class VirtioDiskScanner(EngineOptions options, DeviceNodeResolver nodes)
{
    public IEnumerable<DiskDevice> Scan()
    {
        string blockDir = Path.Combine(options.SysRoot, "block");
        if (!options.ScanVirtio || !Directory.Exists(blockDir)) yield break;
        foreach (var dir in Directory.EnumerateFileSystemEntries(blockDir, "vd*").Order(StringComparer.Ordinal))
        {
            string kname = Path.GetFileName(dir);
            string? serial = Sysfs.ReadString(Path.Combine(dir, "serial"));
            if (string.IsNullOrEmpty(serial))
            {
                options.Warning?.Invoke($"skipping disk '{kname}': its serial cannot be read");
                continue;
            }
            long sectors = Sysfs.ReadLong(Path.Combine(dir, "size")) ?? 0;
            string device;
            try { device = nodes.Resolve(dir); }
            catch (IOException ex)
            {
                options.Warning?.Invoke($"skipping disk '{serial}' ({kname}): {ex.Message}");
                continue;
            }
            // sysfs sizes are in 512-byte units whatever the logical sector size.
            yield return new DiskDevice(serial, kname, dir, device, sectors * 512, "virtio", null);
        }
    }
}
