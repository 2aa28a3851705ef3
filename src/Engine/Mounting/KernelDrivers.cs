namespace RestoreTools.Engine.Mounting;

/// <summary>Whether this kernel can mount a filesystem type: a driver it has, or a module it can load on request.</summary>
internal static class KernelDrivers
{
    /// <summary>
    /// True when /proc/filesystems lists the type, or modules.alias maps "fs-TYPE" to a module that mount(2)'s
    /// request_module can load (a restore VM has its drivers as modules, loaded on first use). A host with
    /// no /lib/modules (a container, a cloud kernel with everything built in) has only what it lists.
    /// </summary>
    public static bool CanMount(string fsType, string procRoot = "/proc", string modulesRoot = "/lib/modules")
    {
        if (ProcFilesystems.BlockFilesystems(procRoot).Contains(fsType, StringComparer.Ordinal)) return true;
        string release;
        try { release = File.ReadAllText(Path.Combine(procRoot, "sys/kernel/osrelease")).Trim(); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
        string prefix = $"alias fs-{fsType} ";
        try
        {
            return File.ReadLines(Path.Combine(modulesRoot, release, "modules.alias")).Any(l => l.StartsWith(prefix, StringComparison.Ordinal));
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
