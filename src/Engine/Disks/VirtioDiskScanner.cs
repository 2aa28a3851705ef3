namespace RestoreTools.Engine.Disks;

/// <summary>
/// Finds virtio disks (/sys/block/vd*) and names each by its serial, as the restore VM's host
/// sets serial=&lt;image name&gt;. A disk whose serial cannot be read is skipped with a warning.
/// </summary>
internal sealed class VirtioDiskScanner(EngineOptions options, DeviceNodeResolver nodes)
{
    /// <summary>The disks, each under a name of its own: two serials alike (a cut at 20 bytes) are told apart and warned of.</summary>
    public IEnumerable<DiskDevice> Scan()
    {
        var taken = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var disk in ScanSerials())
        {
            if (taken.TryGetValue(disk.Name, out var first))
            {
                string unique = disk.Name + "~" + disk.KernelName;
                Warn($"disks {first} and {disk.KernelName} both have the name '{disk.Name}' (serial '{disk.Serial}'): {disk.KernelName} is named '{unique}'");
                taken[unique] = disk.KernelName;
                yield return disk with { Name = unique };
                continue;
            }
            taken[disk.Name] = disk.KernelName;
            yield return disk;
        }
    }

    // Every listing scans again: each warning is given once.
    private readonly HashSet<string> _warned = [];

    private void Warn(string message)
    {
        lock (_warned) if (!_warned.Add(message)) return;
        options.Warning?.Invoke(message);
    }

    private IEnumerable<DiskDevice> ScanSerials()
    {
        string blockDir = Path.Combine(options.SysRoot, "block");
        if (!options.ScanVirtio || !Directory.Exists(blockDir)) yield break;
        foreach (var dir in Directory.EnumerateFileSystemEntries(blockDir, "vd*").Order(StringComparer.Ordinal))
        {
            string kname = Path.GetFileName(dir);
            string? serial = Sysfs.ReadString(Path.Combine(dir, "serial"));
            if (string.IsNullOrEmpty(serial))
            {
                Warn($"skipping disk '{kname}': its serial cannot be read");
                continue;
            }
            long sectors = Sysfs.ReadLong(Path.Combine(dir, "size")) ?? 0;
            string device;
            try { device = nodes.Resolve(dir); }
            catch (IOException ex)
            {
                Warn($"skipping disk '{serial}' ({kname}): {ex.Message}");
                continue;
            }
            // sysfs sizes are in 512-byte units whatever the logical sector size.
            yield return new DiskDevice(DiskNameMatcher.NameOf(serial), kname, dir, device, sectors * 512, "virtio", null) { Serial = serial };
        }
    }
}
