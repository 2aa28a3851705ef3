using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Disks;

/// <summary>
/// Finds the block node for a sysfs device: the system's /dev entry when it has the right
/// major:minor, otherwise a node of the engine's own made with mknod (no udev in a restore VM).
/// </summary>
internal sealed class DeviceNodeResolver(EngineOptions options)
{
    public string Resolve(string sysfsDir)
    {
        string kname = Path.GetFileName(sysfsDir);
        var dev = Sysfs.ReadDev(sysfsDir)
            ?? throw new IOException($"cannot read the device number of '{kname}' from {sysfsDir}/dev");

        string system = Path.Combine(options.DevRoot, kname);
        if (DeviceNodes.GetDeviceNumber(system) == dev) return system;

        string own = Path.Combine(options.NodeDir, kname);
        var existing = DeviceNodes.GetDeviceNumber(own);
        if (existing == dev) return own;
        if (existing is not null || File.Exists(own)) File.Delete(own); // stale node from an earlier device
        DeviceNodes.CreateBlockNode(own, dev.Major, dev.Minor);
        return own;
    }
}
