using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RestoreTools.Engine.RestoreVm;

/// <summary>
/// Starts, finds and stops restore VMs: qemu with the images as read-only virtio disks whose
/// serial is the image name, and an agent inside that the host reaches on 127.0.0.1 (user-mode
/// networking) or over vsock. Each VM has a state folder; VMs this instance started are stopped
/// when it is disposed, and every VM powers itself off after the agent's idle timeout.
/// </summary>
public sealed class RestoreVmManager(IRestoreVmAgentProbe probe, string stateRoot = "/run/restoretools/vms") : IDisposable
{
    private readonly List<string> _started = [];

    public RestoreVmInfo Start(IReadOnlyList<RestoreVmImage> images, RestoreVmOptions options, CancellationToken cancellationToken = default)
    {
        if (images.Count == 0) throw new RestoreException(RestoreErrorCode.InvalidPath, "a restore VM needs at least one image");
        Validate(images, options);
        string accel = options.Accelerator == "auto" ? Accelerators.Detect() : options.Accelerator;
        string transport = VmTransport.Resolve(options);
        options = options with { Transport = transport };
        // No snapshots over vsock: a resumed guest would keep the saved vsock CID.
        if (options.SnapshotDir is not null && transport != VmTransport.Vsock && images.Count <= options.SnapshotSlots
            && options.StateDir is null && !images.Any(i => i.Writable))
        {
            try
            {
                var snap = BootSnapshot.Find(options, accel);
                if (snap is null)
                {
                    options.Progress?.Invoke("Saving a boot snapshot of the restore VM (once; later starts resume it)");
                    snap = BootSnapshot.Create(options, accel, cancellationToken);
                }
                try
                {
                    return Resume(snap, images, options, accel, cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or RestoreException or SocketException or JsonException)
                {
                    // A snapshot this qemu cannot resume is of no use: the next start saves a new one.
                    snap.Delete();
                    throw;
                }
            }
            catch (Exception ex) when (ex is IOException or RestoreException or SocketException or JsonException or UnauthorizedAccessException)
            {
                options.Warning?.Invoke($"restore VM boot snapshot not used ({ex.Message.Split('\n')[0]}): booting the VM");
            }
        }
        var vm = Boot(images, options, accel, transport);
        return WaitForAgent(vm, images.Count, options, TimeSpan.FromSeconds(options.TimeoutSeconds), cancellationToken);
    }

    /// <summary>
    /// Boots the kernel and returns once qemu runs, without waiting for an agent: the one launcher
    /// of scripts (restore-agent run-vm: selftests, maker VMs with their own initramfs, writable
    /// disks). Start is this plus the boot snapshot and the wait for the agent.
    /// </summary>
    public RestoreVmInfo Launch(IReadOnlyList<RestoreVmImage> images, RestoreVmOptions options)
    {
        Validate(images, options);
        string accel = options.Accelerator == "auto" ? Accelerators.Detect() : options.Accelerator;
        string transport = VmTransport.Resolve(options);
        return Boot(images, options with { Transport = transport }, accel, transport);
    }

    private static void Validate(IReadOnlyList<RestoreVmImage> images, RestoreVmOptions options)
    {
        foreach (var image in images)
        {
            if (!File.Exists(image.Path))
                throw new RestoreException(RestoreErrorCode.ImageNotFound, $"image '{image.Path}' not found", image.Path);
            Disks.ImageAttachments.ValidateName(image.Name);
        }
        var dupes = images.GroupBy(i => i.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (dupes.Count > 0) throw new RestoreException(RestoreErrorCode.NameInUse, $"two images are named '{dupes[0]}'", dupes[0]);
        // virtio keeps 20 bytes of a serial: two names alike in those would be one disk name inside the VM.
        var cut = images.GroupBy(i => Disks.DiskNameMatcher.NameOf(Disks.DiskNameMatcher.SerialOf(i.Name))).FirstOrDefault(g => g.Count() > 1);
        if (cut is not null)
            throw new RestoreException(RestoreErrorCode.NameInUse,
                $"images '{string.Join("' and '", cut.Select(i => i.Name))}' would both be disk '{cut.Key}' inside the VM: a virtio serial keeps its first {Disks.DiskNameMatcher.VirtioSerialLength} bytes; name them so that those differ", cut.First().Name);
        foreach (var f in new[] { options.Kernel, options.Initrd })
            if (!File.Exists(f)) throw new RestoreException(RestoreErrorCode.VmStartFailed, $"restore VM file '{f}' not found: build it with './build.sh VmImage'", f);
    }

    /// <summary>Boots the kernel and initramfs with the images as virtio disks.</summary>
    private RestoreVmInfo Boot(IReadOnlyList<RestoreVmImage> images, RestoreVmOptions options, string accel, string transport)
    {
        bool vsock = transport == VmTransport.Vsock;
        var (id, dir, token, tokenFile) = NewStateDir(options.StateDir);
        string initrd = Path.Combine(dir, "initrd.img");
        TokenInitrd.Write(options.Initrd, token, initrd);

        int cid = vsock ? 3 + (int)(BitConverter.ToUInt32(Native.SecureRandom.Bytes(4)) % (1u << 20)) : 0;
        int port = transport == VmTransport.Tcp ? FreeLoopbackPort() : 0;
        string endpoint = VmTransport.Endpoint(transport, dir, port, cid, options.VsockPort);

        var overlays = images.Select((img, i) => options.NoRecovery || img.Writable ? null : ImageOverlays.Create(dir, i, img)).ToList();
        var args = QemuArguments(options, images, overlays, dir, initrd, accel, transport, cid, port);
        int pid = LaunchQemu(options.Qemu, args, dir);
        return Record(new RestoreVmInfo(id, pid, images, DateTimeOffset.UtcNow, transport, endpoint,
            options.IdleTimeoutSeconds, accel, dir, tokenFile) { Boot = "cold", NoRecovery = options.NoRecovery });
    }

    /// <summary>Resumes the boot snapshot in a new qemu, plugs the images in and waits for the agent to see them.</summary>
    private RestoreVmInfo Resume(BootSnapshot snap, IReadOnlyList<RestoreVmImage> images, RestoreVmOptions options, string accel, CancellationToken cancellationToken)
    {
        var (id, dir, _, tokenFile) = NewStateDir(options.StateDir);
        int port = options.Transport == VmTransport.Tcp ? FreeLoopbackPort() : 0;
        var args = BootSnapshot.Arguments(options, accel, snap, dir, tokenFile, port, resume: true);
        int pid = LaunchQemu(options.Qemu, args, dir);
        var vm = Record(new RestoreVmInfo(id, pid, images, DateTimeOffset.UtcNow, options.Transport, VmTransport.Endpoint(options.Transport, dir, port, 0, options.VsockPort),
            options.IdleTimeoutSeconds, accel, dir, tokenFile) { Boot = "snapshot", NoRecovery = options.NoRecovery });
        try
        {
            var overlays = images.Select((img, i) => options.NoRecovery ? null : ImageOverlays.Create(dir, i, img)).ToList();
            snap.Resume(Path.Combine(dir, "qmp.sock"), images, overlays, TimeSpan.FromSeconds(options.TimeoutSeconds));
            return WaitForAgent(vm, images.Count, options, TimeSpan.FromSeconds(Math.Min(options.TimeoutSeconds, 15)), cancellationToken);
        }
        catch
        {
            Kill(vm);
            while (IsRunning(vm.Pid)) Thread.Sleep(20);
            TryDelete(dir);
            lock (_started) _started.Remove(id);
            throw;
        }
    }

    private (string Id, string Dir, string Token, string TokenFile) NewStateDir(string? exact = null)
    {
        string id = exact is null ? DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "-" + Native.SecureRandom.Hex(3) : Path.GetFileName(Path.GetFullPath(exact).TrimEnd('/'));
        string dir = exact is null ? Path.Combine(stateRoot, id) : Path.GetFullPath(exact);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string token = Native.SecureRandom.Hex(32);
        string tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, token);
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (id, dir, token, tokenFile);
    }

    /// <summary>Runs qemu with -daemonize: it returns once the VM runs; its stderr says why when it did not. The VM's pid.</summary>
    internal static int LaunchQemu(string qemu, List<string> args, string dir)
    {
        File.WriteAllText(Path.Combine(dir, "qemu.cmdline"), string.Join(' ', args.Prepend(qemu)));
        var psi = new ProcessStartInfo(qemu, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using (var process = Process.Start(psi) ?? throw new RestoreException(RestoreErrorCode.VmStartFailed, $"'{qemu}' did not start"))
        {
            string err = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new RestoreException(RestoreErrorCode.VmStartFailed, $"qemu failed to start: {err.Trim()}");
        }
        return int.Parse(File.ReadAllText(Path.Combine(dir, "qemu.pid")).Trim());
    }

    private RestoreVmInfo Record(RestoreVmInfo vm)
    {
        vm = vm with { OwnerUid = (int)Native.Identity.EffectiveUid, OwnerPid = Environment.ProcessId };
        File.WriteAllText(Path.Combine(vm.StateDir, "state.json"), JsonSerializer.Serialize(vm, RestoreVmJson.Default.RestoreVmInfo));
        lock (_started) _started.Add(vm.Id);
        return vm;
    }

    private RestoreVmInfo WaitForAgent(RestoreVmInfo vm, int disks, RestoreVmOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A request sent before the guest's network is up is lost in slirp and waits for TCP's
        // retransmission (1 s): until the agent logs that it listens, tries are short; from then
        // on, one try with time enough for a first answer under TCG. A resumed VM listens from the
        // start and is ready when its agent sees the plugged-in disks.
        var deadline = Stopwatch.StartNew();
        bool listening = false;
        while (deadline.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!IsAlive(vm))
                throw Failed(vm, "the VM stopped before its agent answered");
            listening = listening || FileSays(vm.ConsoleLog, AgentListeningMarker);
            if (probe.IsReady(vm, listening ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(300), disks, cancellationToken)) return vm;
            Thread.Sleep(listening ? 10 : 30);
        }
        Kill(vm);
        throw Failed(vm, $"its agent did not answer within {timeout.TotalSeconds:0} s");
    }

    /// <summary>Part of the agent's start-up log line ("restore-agent V listening on ..."), on the VM's console.</summary>
    public const string AgentListeningMarker = " listening on ";

    internal static bool FileSays(string file, string marker)
    {
        try
        {
            using var log = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(log).ReadToEnd().Contains(marker, StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    /// <summary>Running VMs from the state folder; folders of VMs that are gone are removed.</summary>
    public IReadOnlyList<RestoreVmInfo> List()
    {
        var list = new List<RestoreVmInfo>();
        if (!Directory.Exists(stateRoot)) return list;
        foreach (var dir in Directory.EnumerateDirectories(stateRoot).Order(StringComparer.Ordinal))
        {
            var vm = Read(dir);
            if (vm is not null && IsAlive(vm)) list.Add(vm);
            else if (vm is not null) TryDelete(dir);
        }
        return list;
    }

    /// <summary>
    /// Whether this process may treat the VM as its own (Get-RestoreVM without -All, reuse by
    /// Start-RestoreVM): started by this user, and by this process or by one that is gone.
    /// Another user's VM, or one a running process (another shell, a CI job) started, is not.
    /// </summary>
    public static bool IsManagedHere(RestoreVmInfo vm) =>
        vm.OwnerUid == (int)Native.Identity.EffectiveUid
        && (vm.OwnerPid == Environment.ProcessId || vm.OwnerPid <= 0 || !Directory.Exists($"/proc/{vm.OwnerPid}"));

    public RestoreVmInfo Get(string id) =>
        List().FirstOrDefault(v => v.Id == id) ?? throw new RestoreException(RestoreErrorCode.VmNotFound, $"no running restore VM '{id}'", id);

    /// <summary>A running VM with exactly these images (same names, files and formats), to reuse.</summary>
    public RestoreVmInfo? FindReusable(IReadOnlyList<RestoreVmImage> images, bool noRecovery = false) =>
        List().FirstOrDefault(v => IsManagedHere(v) && v.NoRecovery == noRecovery && v.Images.OrderBy(i => i.Name).SequenceEqual(images.OrderBy(i => i.Name)));

    /// <summary>Asks the agent to power off, then ends qemu by its pid when it does not go in time.</summary>
    public void Stop(string id, TimeSpan? grace = null)
    {
        var vm = Get(id);
        probe.RequestStop(vm);
        var sw = Stopwatch.StartNew();
        while (IsRunning(vm.Pid) && sw.Elapsed < (grace ?? TimeSpan.FromSeconds(5))) Thread.Sleep(50);
        if (IsAlive(vm)) Kill(vm);
        // Its command line empties while qemu exits: wait until it has really gone.
        while (IsRunning(vm.Pid) && sw.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(50);
        TryDelete(vm.StateDir);
        lock (_started) _started.Remove(id);
    }

    public void Dispose()
    {
        List<string> ids;
        lock (_started) ids = [.. _started];
        foreach (var id in ids)
        {
            try { Stop(id, TimeSpan.FromSeconds(2)); } catch (RestoreException) { }
        }
    }

    private static List<string> QemuArguments(RestoreVmOptions options, IReadOnlyList<RestoreVmImage> images, IReadOnlyList<string?> overlays, string dir, string initrd, string accel, string transport, int cid, int port)
    {
        var a = new List<string>
        {
            "-accel", accel,
            "-cpu", BootSnapshot.Cpu(accel),
            "-machine", "q35", "-m", options.MemoryMiB.ToString(), "-smp", options.EffectiveCpus.ToString(),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "file:" + Path.Combine(dir, "console.log"),
            "-kernel", options.Kernel, "-initrd", initrd,
            "-append", BootSnapshot.KernelCommandLine(options, snapshot: false),
            "-pidfile", Path.Combine(dir, "qemu.pid"), "-daemonize",
        };
        for (int i = 0; i < images.Count; i++)
        {
            var img = images[i];
            a.AddRange(ImageOverlays.BlockdevArguments(i, img, overlays[i]));
            a.Add("-device"); a.Add($"virtio-blk-pci,drive=d{i},serial={img.Name.Replace(",", ",,")}");
        }
        a.AddRange(VmTransport.QemuArguments(transport, dir, port, options.GuestPort, cid));
        return a;
    }

    private static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Alive, and still our qemu: a recycled pid runs something else, without our state folder on its command line.</summary>
    private static bool IsAlive(RestoreVmInfo vm)
    {
        try { return File.ReadAllText($"/proc/{vm.Pid}/cmdline").Contains(vm.StateDir, StringComparison.Ordinal); }
        catch (IOException) { return false; }
    }

    /// <summary>Exists and is not a zombie (a daemonized qemu's parent is init, which may reap late).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }

    private static void Kill(RestoreVmInfo vm)
    {
        if (!IsAlive(vm)) return;
        try { using var p = Process.GetProcessById(vm.Pid); p.Kill(); p.WaitForExit(5000); }
        catch (ArgumentException) { }
        catch (InvalidOperationException) { }
    }

    private static RestoreException Failed(RestoreVmInfo vm, string why)
    {
        string log = "";
        try { log = string.Join('\n', File.ReadLines(vm.ConsoleLog).TakeLast(30)); } catch (IOException) { }
        return new RestoreException(RestoreErrorCode.VmStartFailed,
            $"restore VM {vm.Id} failed: {why}. Console log ({vm.ConsoleLog}):\n{log}", vm.Id);
    }

    private static RestoreVmInfo? Read(string dir)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(dir, "state.json")), RestoreVmJson.Default.RestoreVmInfo); }
        catch (Exception ex) when (ex is IOException or JsonException) { return null; }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, true); } catch (IOException) { }
    }
}

[JsonSerializable(typeof(RestoreVmInfo))]
internal sealed partial class RestoreVmJson : JsonSerializerContext;
