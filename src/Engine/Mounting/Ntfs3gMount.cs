using System.Diagnostics;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Mounting;

/// <summary>
/// An NTFS filesystem served read-only through ntfs-3g (FUSE): wherever ntfs-3g is installed (this
/// host, the restore VM, whose kernels have no NTFS driver), as only it lists alternate data streams;
/// the kernel's ntfs3 where it is not. The engine owns the process: ntfs-3g runs in the foreground
/// (no_detach) as its child, the mount is ready when it shows in mountinfo, and on unmount the
/// process ends by itself (FUSE's destroy) or is killed. A killed engine leaves it running: the
/// owner record lists the mount (ntfs-3g as root mounts "fuseblk", whose mountinfo device is the
/// loop or virtio device), the next engine unmounts it, and <see cref="StopServing"/> ends the rest.
/// </summary>
internal sealed class Ntfs3gMount : IServedMount
{
    /// <summary>The name the mounter tries before the kernel's ntfs3 and ntfs.</summary>
    public const string Type = "ntfs-3g";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly string[] Places = ["/usr/bin/ntfs-3g", "/bin/ntfs-3g", "/usr/local/bin/ntfs-3g"];

    // ro: the device is opened O_RDONLY, nothing (journal, dirty flag, hiberfile) is ever written;
    // streams_interface=xattr: alternate data streams listed and read as user.NAME attributes;
    // no_detach: stay the engine's child. Reparse points (symlinks, junctions) show as symlinks.
    internal const string Options = "ro,no_detach,nosuid,nodev,noexec,streams_interface=xattr";

    // Mount points ntfs-3g serves in this process (see InVolume).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> Served = new(StringComparer.Ordinal);

    private readonly Process _process;
    public string MountPoint { get; }
    public int ProcessId => _process.Id;

    private Ntfs3gMount(Process process, string mountPoint) { _process = process; MountPoint = mountPoint; }

    public static string? Program => Places.FirstOrDefault(File.Exists);

    /// <summary>Mounts device on mountPoint; null and a reason when ntfs-3g is missing or refuses the volume.</summary>
    /// <summary>Whether this system could mount NTFS through ntfs-3g at all (the program and /dev/fuse are there).</summary>
    public static bool CanServe => Program is not null && File.Exists("/dev/fuse");

    public static IServedMount? TryMount(string device, string mountPoint, out string? failure)
    {
        failure = null;
        if (Program is not { } program)
        {
            failure = File.Exists(EngineOptions.RestoreVmMarker)
                ? "ntfs-3g: not in this restore VM (its initramfs was built with --no-ntfs-3g)"
                : "this host has no NTFS driver and no ntfs-3g: install the Debian package ntfs-3g, or use Start-RestoreVM";
            return null;
        }
        if (!File.Exists("/dev/fuse"))
        {
            failure = "ntfs-3g: this system has no /dev/fuse";
            return null;
        }
        // setsid (which execs in place: same pid, ntfs-3g's own command line): a session of its own, so the
        // Ctrl+C that stops a pwsh pipeline never reaches ntfs-3g, which would unmount on SIGINT.
        string? setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
        var psi = new ProcessStartInfo(setsid ?? program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // No locale: ntfs-3g then names files in UTF-8 whatever the caller's environment says.
        foreach (var v in new[] { "LANG", "LC_ALL", "LC_CTYPE" }) psi.Environment.Remove(v);
        if (setsid is not null) psi.ArgumentList.Add(program);
        foreach (var a in new[] { "-o", Options, device, mountPoint }) psi.ArgumentList.Add(a);

        Process process;
        try { process = Process.Start(psi) ?? throw new IOException("no process"); }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException)
        {
            failure = $"ntfs-3g: cannot be started ({ex.Message})";
            return null;
        }
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.OutputDataReceived += (_, _) => { }; // drained, so a chatty process never blocks on a full pipe
        process.BeginOutputReadLine();
        var mount = new Ntfs3gMount(process, mountPoint);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!IsMounted(mountPoint))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                bool exited = process.HasExited;
                // Read before Stop, which lets the process go: its exit code, and all it wrote (WaitForExit
                // without a timeout also waits for the end of the redirected stderr, read asynchronously).
                int? code = null;
                if (exited)
                {
                    process.WaitForExit();
                    code = process.ExitCode;
                }
                mount.Stop();
                string text;
                lock (stderr) text = Reason(stderr.ToString());
                failure = exited
                    ? $"ntfs-3g: {(text.Length > 0 ? text : $"exited with code {code}")}"
                    : $"ntfs-3g: not mounted after {StartTimeout.TotalSeconds:0} s";
                return null;
            }
            Thread.Sleep(10);
        }
        Served[mountPoint.TrimEnd('/')] = 0;
        return mount;
    }

    /// <summary>
    /// What ntfs-3g said, short: its "Failed to mount ..." line with the one before it (the cause),
    /// without the banner, repeated warnings or the advice about chkdsk and FakeRAID that follows.
    /// </summary>
    internal static string Reason(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("Version ", StringComparison.Ordinal) && !l.StartsWith("Requested device", StringComparison.Ordinal)
                && !l.StartsWith("Cmdline options", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal).ToList();
        int failed = lines.FindIndex(l => l.StartsWith("Failed to ", StringComparison.Ordinal));
        var picked = failed < 0 ? lines.TakeLast(2) : lines.Skip(Math.Max(0, failed - 1)).Take(failed == 0 ? 1 : 2);
        return string.Join("; ", picked);
    }

    /// <summary>After the unmount: the process ends by itself; one that does not is killed.</summary>
    public void Stop()
    {
        Served.TryRemove(MountPoint.TrimEnd('/'), out _);
        try
        {
            if (!_process.HasExited && !_process.WaitForExit(5000))
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        // A mount whose process died (killed) stays as "transport endpoint not connected" until unmounted.
        if (IsMounted(MountPoint)) try { MountCalls.Unmount(MountPoint, lazy: true); } catch (NativeException) { }
    }

    /// <summary>
    /// A link's target as the volume means it: ntfs-3g writes a junction or an absolute symlink into
    /// the volume as its mount point + the path ("/run/restoretools/mnt/d/part/1/Users"), which
    /// becomes "/Users", an absolute path inside the volume as on any other filesystem.
    /// </summary>
    public static string InVolume(string linkPath, string target)
    {
        if (Served.IsEmpty || !target.StartsWith('/')) return target;
        foreach (var root in Served.Keys)
            if (linkPath.StartsWith(root + "/", StringComparison.Ordinal) && target.StartsWith(root + "/", StringComparison.Ordinal))
                return target[root.Length..];
        return target;
    }

    /// <summary>
    /// Ends ntfs-3g processes still serving mountPoint (a killed engine's, after its mount went):
    /// only processes that run ntfs-3g with this exact mount point as their last argument.
    /// </summary>
    public static int StopServing(string mountPoint)
    {
        int stopped = 0;
        foreach (var pid in Serving(mountPoint))
            try { using var p = Process.GetProcessById(pid); p.Kill(); p.WaitForExit(5000); stopped++; }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { }
        return stopped;
    }

    internal static IEnumerable<int> Serving(string mountPoint)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string[] args;
            try { args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.None); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            // "ntfs-3g", "-o", OPTIONS, DEVICE, MOUNTPOINT, "" (the trailing NUL)
            if (args.Length == 6 && Path.GetFileName(args[0]) == "ntfs-3g" && args[1] == "-o" && args[2] == Options && args[4] == mountPoint)
                yield return pid;
        }
    }

    private static bool IsMounted(string mountPoint) => ProcFilesystems.IsMountPoint(mountPoint);
}
