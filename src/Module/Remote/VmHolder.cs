using RestoreTools.Engine;
using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.Module.Remote;

/// <summary>
/// The restore VM manager of this process. VMs it started are stopped when the module is removed
/// or the process exits; others (started by another session) are only listed and stopped on request.
/// </summary>
internal static class VmHolder
{
    private static readonly object Gate = new();
    private static RestoreVmManager? manager;
    private static bool exitHooked;

    public static RestoreVmManager Manager
    {
        get
        {
            lock (Gate)
            {
                manager ??= new RestoreVmManager(new AgentVmProbe(),
                    Environment.GetEnvironmentVariable("RESTORETOOLS_VM_STATE") is { Length: > 0 } s ? s : "/run/restoretools/vms");
                if (!exitHooked)
                {
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Reset();
                    exitHooked = true;
                }
                return manager;
            }
        }
    }

    public static void Reset()
    {
        RestoreVmManager? old;
        lock (Gate) { old = manager; manager = null; }
        old?.Dispose();
    }
}

/// <summary>Where the restore VM's kernel and initramfs are.</summary>
internal static class VmFiles
{
    /// <summary>
    /// Given paths, else $RESTORETOOLS_VM_DIR, else a vm folder beside the module, else out/vm when
    /// the module runs from out/RestoreTools (the build's layout).
    /// </summary>
    public static (string Kernel, string Initrd) Locate(string? kernel, string? initrd)
    {
        string moduleDir = Path.GetDirectoryName(typeof(VmFiles).Assembly.Location)!;
        var dirs = new[]
        {
            Environment.GetEnvironmentVariable("RESTORETOOLS_VM_DIR"),
            Path.Combine(moduleDir, "vm"),
            Path.Combine(moduleDir, "..", "vm"),
        }.Where(d => !string.IsNullOrEmpty(d)).Select(d => Path.GetFullPath(d!)).ToList();
        string? dir = dirs.FirstOrDefault(d => File.Exists(Path.Combine(d, "vmlinux")) || File.Exists(Path.Combine(d, "initrd.img")));
        kernel ??= dir is null ? null : Path.Combine(dir, "vmlinux");
        initrd ??= dir is null ? null : Path.Combine(dir, "initrd.img");
        if (kernel is null || initrd is null)
            throw new RestoreException(RestoreErrorCode.VmStartFailed,
                $"no restore VM image found (looked in {string.Join(", ", dirs)}): build it with './build.sh VmImage' or give -KernelPath and -InitrdPath");
        return (kernel, initrd);
    }
}
