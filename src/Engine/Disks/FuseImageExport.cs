using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Disks;

/// <summary>
/// A qcow2, vmdk, vhdx, vdi or vhd image served as raw bytes on this host, read-only: qemu's own
/// storage daemon opens the image (through the descriptor the engine already checked, as
/// /proc/PID/fd/N) and exports its disk as a FUSE file, which a loop device then attaches like
/// any raw image. This host's kernel cannot read those formats, and FUSE is there.
/// </summary>
internal sealed class FuseImageExport : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private readonly Process _daemon;

    /// <summary>The FUSE file holding the disk's raw bytes.</summary>
    public string File { get; }

    private FuseImageExport(Process daemon, string file) { _daemon = daemon; File = file; }

    public static FuseImageExport Start(SafeFileHandle image, string format, string folder, string name, string imagePath)
    {
        Directory.CreateDirectory(folder);
        // The engine's pid in the name: a later engine knows an export whose engine is gone (CleanStale).
        string file = Path.Combine(folder, $"{Environment.ProcessId}.{Guid.NewGuid():N}.raw");
        System.IO.File.WriteAllBytes(file, []); // a FUSE export mounts over an existing file
        var psi = new ProcessStartInfo("qemu-storage-daemon")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        string fd = $"/proc/{Environment.ProcessId}/fd/{image.DangerousGetHandle()}";
        // locking=off: a VM may still hold the image; reading it must not fail, and nothing here writes.
        foreach (var arg in new[]
        {
            "--blockdev", $"driver=file,node-name=file,filename={fd},read-only=on,locking=off",
            "--blockdev", $"driver={format},node-name=disk,file=file,read-only=on",
            "--export", $"type=fuse,id=export,node-name=disk,mountpoint={file},writable=off",
        }) psi.ArgumentList.Add(arg);

        Process daemon;
        try { daemon = Process.Start(psi) ?? throw new IOException("no process"); }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException)
        {
            System.IO.File.Delete(file);
            throw new RestoreException(RestoreErrorCode.AttachFailed,
                $"'{imagePath}': {format} image: this host reads it through qemu-storage-daemon, which cannot be started ({ex.Message}); use Start-RestoreVM, or install qemu-system-common", imagePath, ex);
        }
        var stderr = daemon.StandardError.ReadToEndAsync();
        _ = daemon.StandardOutput.ReadToEndAsync(); // drained, so a chatty daemon never blocks on a full pipe
        var export = new FuseImageExport(daemon, file);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!IsMounted(file))
        {
            if (daemon.HasExited || DateTime.UtcNow > deadline)
            {
                export.Dispose();
                string reason = stderr.Wait(TimeSpan.FromSeconds(1)) ? stderr.Result.Trim() : "";
                throw new RestoreException(RestoreErrorCode.AttachFailed,
                    $"'{imagePath}': {format} image: this host could not serve it through FUSE ({(reason.Length > 0 ? reason : "qemu-storage-daemon did not export it")}); use Start-RestoreVM", imagePath);
            }
            Thread.Sleep(20);
        }
        return export;
    }

    /// <summary>
    /// Stops what a killed engine left in folder: its daemons live on after it (their loop devices
    /// were freed by autoclear), each serving a FUSE mount. Only exports whose engine (the pid in the
    /// file's name) is gone are touched, and only daemons whose command line names that file.
    /// </summary>
    public static int CleanStale(string folder, Action<string>? warning)
    {
        if (!Directory.Exists(folder)) return 0;
        int cleaned = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*.raw"))
        {
            if (!int.TryParse(Path.GetFileName(file).Split('.')[0], out int owner)) continue;
            if (owner == Environment.ProcessId || Directory.Exists($"/proc/{owner}")) continue; // its engine lives
            foreach (var pid in DaemonsServing(file))
                try { using var p = Process.GetProcessById(pid); p.Kill(); p.WaitForExit(5000); } catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { }
            if (IsMounted(file))
                try { MountCalls.Unmount(file, lazy: true); } catch (NativeException ex) { warning?.Invoke($"'{file}', left by an earlier process: {ex.Message}"); }
            try { System.IO.File.Delete(file); cleaned++; } catch (IOException) { }
        }
        return cleaned;
    }

    private static IEnumerable<int> DaemonsServing(string file)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string cmdline;
            try { cmdline = System.IO.File.ReadAllText(Path.Combine(dir, "cmdline")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (cmdline.StartsWith("qemu-storage-daemon\0", StringComparison.Ordinal) || cmdline.Contains("/qemu-storage-daemon\0", StringComparison.Ordinal))
                if (cmdline.Contains("mountpoint=" + file + ",", StringComparison.Ordinal)) yield return pid;
        }
    }

    /// <summary>Opens the exported disk read-only, for the loop device.</summary>
    public SafeFileHandle OpenRead() => System.IO.File.OpenHandle(File, FileMode.Open, FileAccess.Read);

    private static bool IsMounted(string file) =>
        System.IO.File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && Unescape(f[4]) == file);

    private static string Unescape(string field) => field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    /// <summary>Stops the daemon (its FUSE mount goes with it) and removes the file.</summary>
    public void Dispose()
    {
        try
        {
            if (!_daemon.HasExited)
            {
                _daemon.Kill(); // SIGKILL: the export is read-only, nothing to flush
                _daemon.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _daemon.Dispose();
        // A FUSE mount whose daemon died stays as an error until unmounted.
        if (IsMounted(File)) try { MountCalls.Unmount(File, lazy: true); } catch (NativeException) { }
        try { System.IO.File.Delete(File); } catch (IOException) { }
    }
}
