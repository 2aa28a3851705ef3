using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Mounting;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.State;

/// <summary>
/// At engine start: cleans what earlier engine processes on the same state folder left when they
/// were killed (SIGKILL, a crash, a VM pulled away under pwsh). Only what their owner records list
/// is touched, and only when it is provably theirs: a mount point under MountRoot still mounted
/// from the recorded device; a loop device still bound with the recorded marker (each attachment
/// writes a random one into lo_file_name), or free but carrying stale BLKPG partitions. Records of
/// live processes are locked and skipped, so engines that run side by side never touch each other.
/// </summary>
internal static class StaleStateCleaner
{
    public sealed record Result(int Records, int Unmounted, int LoopsCleared, int FoldersLeft, int MappedRemoved = 0);

    public static Result Clean(EngineOptions options)
    {
        var result = CleanRecords(options);
        return result with { MappedRemoved = RemoveOrphanMappings(options) };
    }

    /// <summary>
    /// Device-mapper devices (LVs in the restore VM) of engine processes that are gone: named
    /// restoretools-PID-..., removed top first (each device's number suffix is larger than those it
    /// is built on). Mounts on them were undone above, from the records. Looked for only when
    /// device-mapper is loaded: a kernel without it is never made to load it here.
    /// </summary>
    private static int RemoveOrphanMappings(EngineOptions options)
    {
        try
        {
            if (!File.ReadLines("/proc/misc").Any(l => l.EndsWith(" device-mapper", StringComparison.Ordinal))) return 0;
            int removed = 0;
            var orphans = DeviceMapper.List(options.DevRoot)
                .Select(n => (Name: n, Parts: n.Split('-')))
                .Where(d => d.Parts.Length == 4 && d.Parts[0] == "restoretools" && int.TryParse(d.Parts[1], out int pid)
                    && !Directory.Exists($"/proc/{pid}") && int.TryParse(d.Parts[3], out _))
                .OrderByDescending(d => int.Parse(d.Parts[3]));
            foreach (var (name, _) in orphans)
            {
                if (DeviceMapper.Remove(options.DevRoot, name)) removed++;
                else options.Warning?.Invoke($"'{name}', made by an earlier process, is still in use: left as it is");
                try { File.Delete(Path.Combine(options.DevRoot, "mapper", name)); } catch (IOException) { }
            }
            return removed;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            options.Warning?.Invoke($"cleaning up device-mapper devices of an earlier process: {ex.Message}");
            return 0;
        }
    }

    private static Result CleanRecords(EngineOptions options)
    {
        string dir = OwnerRecord.DirFor(options);
        if (!Directory.Exists(dir)) return new Result(0, 0, 0, 0);
        int records = 0, unmounted = 0, cleared = 0, left = 0;
        foreach (var path in Directory.EnumerateFiles(dir, "*.rec"))
        {
            LockedFile? file;
            try { file = LockedFile.TryLockExisting(path); }
            catch (IOException ex) { options.Warning?.Invoke($"stale record '{path}': {ex.Message}"); continue; }
            if (file is null) continue;   // its engine is alive (or another cleaner has it)
            records++;
            bool clean = true;
            try
            {
                var (loops, mounts) = OwnerRecord.Parse(file.ReadAll());
                var current = ProcFilesystems.Mounts();
                string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.MountRoot)) + "/";
                // Only mount points under this engine's MountRoot, whatever a record says.
                foreach (var m in mounts.Where(m => m.MountPoint.StartsWith(root, StringComparison.Ordinal) && !m.MountPoint.Contains("/../")))
                {
                    if (current.Any(c => c.MountPoint == m.MountPoint && c.Device == m.Device))
                    {
                        if (!Unmount(m.MountPoint, options)) { clean = false; continue; }
                        unmounted++;
                        Ntfs3gMount.StopServing(m.MountPoint);
                    }
                    else if (current.Any(c => c.MountPoint == m.MountPoint))
                        continue;   // something else is mounted there now: not ours, folders stay too
                    MountFolders.Remove(m.MountPoint, m.Top, options.MountRoot);
                }
                foreach (var l in loops)
                {
                    var state = ClearLoop(l, options);
                    if (state == LoopDevices.OrphanState.Cleared) cleared++;
                    if (state == LoopDevices.OrphanState.Busy) clean = false;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                options.Warning?.Invoke($"cleaning up after an earlier process ({Path.GetFileName(path)}): {ex.Message}");
                clean = false;
            }
            if (clean) file.DeleteAndClose();
            else { left++; file.Dispose(); }
        }
        return new Result(records, unmounted, cleared, left);
    }

    private static bool Unmount(string mountPoint, EngineOptions options)
    {
        try
        {
            MountCalls.Unmount(mountPoint);
            return true;
        }
        catch (NativeException ex) when (ex.Errno == Sys.EBUSY)
        {
            // Someone is inside it (a shell's working folder): detach it now, the kernel lets go when they leave.
            MountCalls.Unmount(mountPoint, lazy: true);
            options.Warning?.Invoke($"'{mountPoint}', left mounted by an earlier process, was busy: detached lazily");
            return true;
        }
        catch (NativeException ex)
        {
            options.Warning?.Invoke($"'{mountPoint}', left mounted by an earlier process, could not be unmounted: {ex.Message}");
            return false;
        }
    }

    private static LoopDevices.OrphanState ClearLoop(OwnerRecord.Loop loop, EngineOptions options)
    {
        // Only a loop device node (block major 7) is opened, whatever the record says.
        if (DeviceNodes.GetDeviceNumber(loop.Device) is not { Major: 7 })
            return LoopDevices.OrphanState.OtherBinding;
        string sysDir = Path.Combine(options.SysRoot, "block", Path.GetFileName(loop.Device));
        var state = LoopDevices.ClearIfMarked(loop.Device, loop.Marker, () => ImageAttachments.RemovePartitions(loop.Device, sysDir));
        if (state == LoopDevices.OrphanState.Busy)
            options.Warning?.Invoke($"'{loop.Device}', bound by an earlier process, is still in use: left as it is");
        return state;
    }
}
