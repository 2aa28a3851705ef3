using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RestoreTools.Engine.RestoreVm;

/// <summary>
/// A booted restore VM saved once and resumed for each start, as Firecracker-style snapshots do:
/// under TCG a cold boot to the agent's first answer costs seconds, a resume a fraction of one.
/// The VM is saved with no disks, once its agent listens; each resumed VM gets its own token (a
/// fw_cfg file the agent reads at its first request), its own port, and its images hot-plugged
/// into PCIe root ports that the snapshot has empty. Guest RAM is a file: the saving qemu maps it
/// shared and writes it, each resuming qemu maps it private (copy-on-write) and skips it in the
/// migration stream (x-ignore-shared), so a resume reads only the pages the guest touches.
/// </summary>
internal sealed class BootSnapshot
{
    public const string TokenFwCfgName = "opt/restoretools/token";
    private const int Version = 1;
    private const int Keep = 3;

    private BootSnapshot(string dir) => Dir = dir;

    /// <summary>The folder: ram (guest memory, sparse) and state (devices, a few hundred KB).</summary>
    public string Dir { get; }
    public string Ram => Path.Combine(Dir, "ram");
    public string State => Path.Combine(Dir, "state");

    /// <summary>
    /// A snapshot fits one qemu binary, kernel, initramfs, memory size, idle timeout, accelerator
    /// and device layout: the key hashes them all, so a changed file makes a new snapshot.
    /// </summary>
    public static string Key(RestoreVmOptions options, string accel)
    {
        var text = new StringBuilder()
            .AppendLine($"v{Version} slots={options.SnapshotSlots} mem={options.MemoryMiB} smp={options.EffectiveCpus} idle={options.IdleTimeoutSeconds} accel={accel} port={options.GuestPort} transport={options.Transport}")
            .AppendLine(KernelCommandLine(options, snapshot: true))
            .AppendLine(Cpu(accel));
        foreach (var f in new[] { ResolveExecutable(options.Qemu), options.Kernel, options.Initrd })
        {
            var info = new FileInfo(f);
            text.AppendLine(info.Exists ? $"{info.FullName} {info.Length} {info.LastWriteTimeUtc.Ticks}" : f);
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    /// <summary>The saved snapshot for these options, if there is one.</summary>
    public static BootSnapshot? Find(RestoreVmOptions options, string accel)
    {
        var snap = new BootSnapshot(Path.Combine(options.SnapshotDir!, Key(options, accel)));
        if (!File.Exists(snap.State) || !File.Exists(snap.Ram)) return null;
        try { Directory.SetLastWriteTimeUtc(snap.Dir, DateTime.UtcNow); } catch (IOException) { }
        return snap;
    }

    /// <summary>Boots a VM without disks, waits until its agent listens, saves it and keeps the newest few snapshots.</summary>
    public static BootSnapshot Create(RestoreVmOptions options, string accel, CancellationToken cancellationToken)
    {
        string root = options.SnapshotDir!;
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var final = new BootSnapshot(Path.Combine(root, Key(options, accel)));
        string work = final.Dir + ".new-" + Native.SecureRandom.Hex(3);
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var building = new BootSnapshot(work);
        int pid = 0;
        try
        {
            // A random token nobody learns: the saving VM has no port forward, and should anything
            // make its agent read a token before the save, resumed VMs would still not share a known one.
            string token = Path.Combine(work, "token");
            File.WriteAllText(token, Native.SecureRandom.Hex(32));
            var args = Arguments(options, accel, building, work, token, hostPort: null, resume: false);
            pid = RestoreVmManager.LaunchQemu(options.Qemu, args, work);

            var clock = Stopwatch.StartNew();
            string console = Path.Combine(work, "console.log");
            while (!RestoreVmManager.FileSays(console, RestoreVmManager.AgentListeningMarker))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!RestoreVmManager.IsRunning(pid))
                    throw new IOException("the VM stopped before its agent listened: " + Tail(console));
                if (clock.Elapsed > TimeSpan.FromSeconds(options.TimeoutSeconds))
                    throw new IOException($"its agent did not listen within {options.TimeoutSeconds} s: " + Tail(console));
                Thread.Sleep(20);
            }

            using (var qmp = QmpClient.Connect(Path.Combine(work, "qmp.sock"), TimeSpan.FromSeconds(10)))
            {
                qmp.Execute("migrate-set-capabilities", IgnoreShared);
                qmp.Execute("migrate", w => w.WriteString("uri", "exec:cat > " + ShellQuote(building.State)));
                while (true)
                {
                    string status = qmp.Execute("query-migrate").TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
                    if (status == "completed") break;
                    if (status is "failed" or "cancelled") throw new IOException("qemu could not save the VM: " + status);
                    if (clock.Elapsed > TimeSpan.FromSeconds(options.TimeoutSeconds + 30)) throw new IOException("saving the VM took too long");
                    Thread.Sleep(20);
                }
                try { qmp.Execute("quit"); } catch (IOException) { /* qemu may close before it answers */ }
            }
            WaitGone(pid);
            foreach (var f in new[] { "qmp.sock", "qemu.pid", "token" }) File.Delete(Path.Combine(work, f));
            foreach (var f in Directory.EnumerateFiles(work, "port-*.sock")) File.Delete(f);
            try { Directory.Move(work, final.Dir); }
            catch (IOException) when (Directory.Exists(final.Dir)) { Directory.Delete(work, true); }   // another start saved one first
            Prune(root, final.Dir);
            return final;
        }
        catch
        {
            if (pid > 0 && RestoreVmManager.IsRunning(pid)) { try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } }
            WaitGone(pid);
            try { Directory.Delete(work, true); } catch (IOException) { }
            throw;
        }
    }

    public void Delete()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }

    /// <summary>
    /// The qemu command line of the saving VM and of each resumed one: the same machine and devices
    /// (a migration needs them equal); only the memory's sharing, the port forward or the ports'
    /// sockets, the token file and -incoming differ. options.Transport is resolved (tcp or virtio-serial).
    /// </summary>
    public static List<string> Arguments(RestoreVmOptions options, string accel, BootSnapshot snap, string vmDir, string tokenFile, int? hostPort, bool resume)
    {
        var a = new List<string>
        {
            "-accel", accel,
            "-cpu", Cpu(accel),
            "-machine", "q35,memory-backend=ram", "-m", options.MemoryMiB + "M", "-smp", options.EffectiveCpus.ToString(),
            "-object", $"memory-backend-file,id=ram,size={options.MemoryMiB}M,mem-path={snap.Ram.Replace(",", ",,")},share={(resume ? "off" : "on")}",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "file:" + Path.Combine(vmDir, "console.log"),
            "-kernel", options.Kernel, "-initrd", options.Initrd,
            "-append", KernelCommandLine(options, snapshot: true),
            "-fw_cfg", $"name={TokenFwCfgName},file={tokenFile.Replace(",", ",,")}",
            // A new generation id on each resume: the guest kernel reseeds its random numbers.
            "-device", "vmgenid",
            "-qmp", $"unix:{Path.Combine(vmDir, "qmp.sock").Replace(",", ",,")},server=on,wait=off",
            "-pidfile", Path.Combine(vmDir, "qemu.pid"), "-daemonize",
        };
        for (int i = 0; i < options.SnapshotSlots; i++)
        {
            a.Add("-device"); a.Add($"pcie-root-port,id=rp{i},chassis={i + 1}");
        }
        // The saving VM's ports have sockets in its work folder that nobody connects to; each
        // resumed VM has its own in its folder (chardevs are the host's side, not migrated).
        a.AddRange(VmTransport.QemuArguments(options.Transport, vmDir, hostPort, options.GuestPort, 0));
        if (resume) { a.Add("-incoming"); a.Add("defer"); }
        return a;
    }

    /// <summary>Resumes the saved VM in the qemu just started with -incoming defer, then plugs the images in.</summary>
    /// <param name="overlays">Per image, the throw-away overlay the guest writes into (journal replay), or null: the image read-only as it is.</param>
    public void Resume(string qmpSocket, IReadOnlyList<RestoreVmImage> images, IReadOnlyList<string?> overlays, TimeSpan timeout)
    {
        using var qmp = QmpClient.Connect(qmpSocket, TimeSpan.FromSeconds(10));
        qmp.Execute("migrate-set-capabilities", IgnoreShared);
        qmp.Execute("migrate-incoming", w => w.WriteString("uri", "exec:cat " + ShellQuote(State)));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string status = qmp.Execute("query-status").TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
            if (status == "running") break;
            if (status != "inmigrate") throw new IOException($"the resumed VM is '{status}', not running");
            if (clock.Elapsed > timeout) throw new IOException("resuming the VM took too long");
            Thread.Sleep(10);
        }
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            qmp.Execute("blockdev-add", w =>
            {
                w.WriteString("driver", image.Format);
                w.WriteString("node-name", $"img{i}");
                w.WriteBoolean("read-only", true);
                w.WriteStartObject("file");
                w.WriteString("driver", "file");
                w.WriteString("filename", image.Path);
                w.WriteBoolean("read-only", true);
                w.WriteEndObject();
            });
            string drive = $"img{i}";
            if (overlays[i] is { } overlay)
            {
                drive = $"ov{i}";
                qmp.Execute("blockdev-add", w =>
                {
                    w.WriteString("driver", "qcow2");
                    w.WriteString("node-name", $"ov{i}");
                    w.WriteStartObject("file");
                    w.WriteString("driver", "file");
                    w.WriteString("filename", overlay);
                    w.WriteEndObject();
                    w.WriteString("backing", $"img{i}");
                });
            }
            qmp.Execute("device_add", w =>
            {
                w.WriteString("driver", "virtio-blk-pci");
                w.WriteString("id", $"disk{i}");
                w.WriteString("drive", drive);
                w.WriteString("serial", image.Name);
                w.WriteString("bus", $"rp{i}");
            });
        }
    }

    /// <summary>
    /// The guest CPU (cold boots too). KVM: the host's. TCG: max (with qemu64, crc32c-intel, ext4's
    /// checksums, fails to load) less ERMS and FSRM: with them the kernel copies and clears memory
    /// with rep movsb/stosb, which TCG runs one byte per step; without them it uses unrolled 8-byte
    /// moves (as vm/run-vm.sh: /init ~0.3 s and the agent's first answer ~0.55 s earlier).
    /// </summary>
    public static string Cpu(string accel) => accel == "kvm" ? "host" : "max,erms=off,fsrm=off";

    /// <summary>
    /// The kernel command line (cold boots too); a snapshot VM's agent takes its token from fw_cfg.
    /// Besides the console and panic=-1 (qemu exits when /init dies), parameters that shorten the
    /// boot under TCG (as vm/run-vm.sh; measured in docs/restore-vm.md):
    /// cryptomgr.notests: no self-tests of the crypto algorithms at boot (~0.45 s);
    /// noreplace-smp: keep the LOCK prefixes, which the kernel otherwise rewrites one by one for a
    /// single CPU (~0.2 s of code patching; locked instructions are correct on one CPU).
    /// </summary>
    public static string KernelCommandLine(RestoreVmOptions options, bool snapshot) =>
        $"console=ttyS0 quiet panic=-1 cryptomgr.notests noreplace-smp restoretools.idle={options.IdleTimeoutSeconds}"
        + (snapshot ? " restoretools.snapshot=1" : "")
        + (options.KernelArguments is { Length: > 0 } more ? " " + more : "");

    private static void IgnoreShared(Utf8JsonWriter w)
    {
        w.WriteStartArray("capabilities");
        w.WriteStartObject();
        w.WriteString("capability", "x-ignore-shared");
        w.WriteBoolean("state", true);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    /// <summary>Keeps the most recently used snapshots; older ones (other kernels, sizes) go.</summary>
    private static void Prune(string root, string keep)
    {
        var old = new DirectoryInfo(root).EnumerateDirectories()
            .Where(d => d.FullName != keep && !d.Name.Contains(".new-"))
            .OrderByDescending(d => d.LastWriteTimeUtc)
            .Skip(Keep - 1);
        foreach (var d in old)
            try { d.Delete(true); } catch (IOException) { }
    }

    private static void WaitGone(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (pid > 0 && RestoreVmManager.IsRunning(pid) && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
    }

    private static string Tail(string file)
    {
        try { return string.Join('\n', File.ReadLines(file).TakeLast(15)); } catch (IOException) { return ""; }
    }

    private static string ShellQuote(string path) =>
        path.Contains('\'') ? throw new IOException($"a snapshot path may not contain a quote: {path}") : "'" + path + "'";

    private static string ResolveExecutable(string name)
    {
        if (name.Contains('/')) return Path.GetFullPath(name);
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return name;
    }
}
