namespace RestoreTools.Engine.Disks;

/// <summary>A whole disk as the engine sees it, before buckets: where it is and what it is called.</summary>
internal sealed record DiskDevice(
    string Name,
    string KernelName,
    string SysfsDir,
    string DevicePath,
    long Size,
    string Source,
    string? ImagePath)
{
    /// <summary>A virtio disk's serial as the VM's host set it (the name may drop a .img.fidx suffix or a clash).</summary>
    public string? Serial { get; init; }
}
