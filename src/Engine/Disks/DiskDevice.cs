namespace RestoreTools.Engine.Disks;

/// <summary>A whole disk as the engine sees it, before buckets: where it is and what it is called.</summary>
internal sealed record DiskDevice(
    string Name,
    string KernelName,
    string SysfsDir,
    string DevicePath,
    long Size,
    string Source,
    string? ImagePath);
