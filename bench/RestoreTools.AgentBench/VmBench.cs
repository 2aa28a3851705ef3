using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using RestoreTools.Contract;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.AgentBench;

/// <summary>
/// bench/vm.sh (issue 6): (a) RestoreVmManager.Start (what Start-RestoreVM calls) to the first
/// authenticated answer, with the boot's phases from the serial console; (b) recursive list and tar
/// export of a ~100 MB tree through the VM vs GNU tools on a read-only loop mount on the host.
/// </summary>
internal sealed class VmBench(string kernel, string initrd, string image, string work, int boots, int repeat, int compare, string repo)
{
    private const string Disk = "vmtree";
    public readonly Table Table = new();
    public readonly List<string> Notes = [];

    public void Run()
    {
        string accel = Accelerators.Detect();
        Notes.Add($"accelerator: {accel} (Accelerators.Detect: /dev/kvm {(File.Exists("/dev/kvm") ? "exists" : "absent")}, kvm_intel/kvm_amd {(Directory.Exists("/sys/module/kvm_intel") || Directory.Exists("/sys/module/kvm_amd") ? "loaded" : "not loaded")}); "
                  + "KVM: not available here (this host's /dev/kvm is a paravirtual PVM that cannot run a stock kernel), so every figure is TCG.");
        Notes.Add($"kernel {kernel} ({new FileInfo(kernel).Length / 1e6:F1} MB), initrd {initrd} ({new FileInfo(initrd).Length / 1e6:F1} MB), image {image} ({Disk}), qemu {Sh.Out("qemu-system-x86_64 --version | head -1")}");
        string stateRoot = Path.Combine(work, "vms");
        Directory.CreateDirectory(stateRoot);
        using var manager = new RestoreVmManager(new Probe(), stateRoot);
        // tcp: the transfer rows below go through curl, which speaks plain HTTP (bench/vm.sh --io measures virtio-serial).
        var options = new RestoreVmOptions { Kernel = kernel, Initrd = initrd, TimeoutSeconds = 180, IdleTimeoutSeconds = 900, Transport = VmTransport.Tcp };
        var images = new[] { RestoreVmImage.FromPath(image, Disk) };

        // Cold boots (Start-RestoreVM -NoSnapshot), phase by phase.
        var runs = new List<Boot>();
        for (int i = 0; i < boots; i++)
        {
            var boot = BootOnce(manager, images, options, stateRoot, out var vm);
            runs.Add(boot);
            Console.Error.WriteLine($"vm bench: cold boot {i + 1}: {boot}");
            var sw = Stopwatch.StartNew(); manager.Stop(vm.Id); boot.StopSeconds = sw.Elapsed.TotalSeconds;
        }
        ReportBoots(runs);
        if (compare > 0) CompareRunVm(compare);

        // The default: the first start saves a boot snapshot, every later one resumes it.
        var snapOptions = options with { SnapshotDir = Path.Combine(work, "snapshots") };
        var first = Stopwatch.StartNew();
        var saved = manager.Start(images, snapOptions);
        first.Stop();
        manager.Stop(saved.Id);
        var resumes = new List<double>();
        RestoreVmInfo? keep = null;
        for (int i = 0; i < boots; i++)
        {
            Probe.Reset();
            var sw = Stopwatch.StartNew();
            var vm = manager.Start(images, snapOptions);
            resumes.Add(sw.Elapsed.TotalSeconds);
            if (vm.Boot != "snapshot") throw new InvalidOperationException("the VM was not resumed from the snapshot: " + vm.Boot);
            Console.Error.WriteLine($"vm bench: resume {i + 1}: {resumes[^1]:F2} s");
            if (i < boots - 1) manager.Stop(vm.Id); else keep = vm;
        }
        double resume = Stats.Median(resumes);
        Table.Goal("a Start (default: resume the boot snapshot, plug the image in) -> first authenticated answer seeing the disk", $"{resume:F2} s", "< 2.5 s (TCG)", resume < 2.5,
            $"{boots} starts: {Stats.List(resumes)} s");
        Table.Info("a first Start on a machine: cold boot without disks, save the snapshot, resume", $"{first.Elapsed.TotalSeconds:F2} s",
            $"snapshot {Sh.Out($"du -sh '{snapOptions.SnapshotDir}' | cut -f1").Trim()} on disk (guest RAM file, sparse)");
        try { Transfer(keep!); }
        finally { manager.Stop(keep!.Id); }
    }

    // ---- (a) boot ----

    private sealed class Boot
    {
        public double Ready, QemuPid = double.NaN, Console = double.NaN, Init = double.NaN, Mods = double.NaN, Exec = double.NaN, Listening = double.NaN, FirstProbeOk = double.NaN;
        public double GuestInit = double.NaN, GuestMods = double.NaN, GuestExec = double.NaN;
        public double Cpu, CpuAtInit = double.NaN, CpuAtExec = double.NaN, CpuAtListening = double.NaN, StopSeconds = double.NaN;
        public string Threads = "";
        public int Probes;
        public string Load = "";
        public double GuestZero => Init - GuestInit;   // host time when the guest's clock started (kernel entry)
        public override string ToString() => FormattableString.Invariant(
            $"ready {Ready:F2} s, qemu.pid {QemuPid:F2}, guest clock 0 at ~{GuestZero:F2}, /init {Init:F2} (guest {GuestInit:F2}), modules {Mods:F2}, agent exec {Exec:F2}, listening {Listening:F2}, qemu CPU {Cpu:F2} s (at /init {CpuAtInit:F2}, agent exec {CpuAtExec:F2}, listening {CpuAtListening:F2}; threads: {Threads}), probes {Probes}, load {Load}");
    }

    private static readonly Regex Up = new(@"restore-vm: \[([\d.]+)\] (.*)$", RegexOptions.Multiline);

    private Boot BootOnce(RestoreVmManager manager, RestoreVmImage[] images, RestoreVmOptions options, string stateRoot, out RestoreVmInfo vm)
    {
        var before = Directory.GetDirectories(stateRoot).ToHashSet();
        var boot = new Boot { Load = Sh.Load() };
        var sw = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        int qemuPid = 0;
        // The console watcher: host times at which each marker appears (polled every 5 ms).
        var watcher = Task.Run(() =>
        {
            string? dir = null;
            while (!stop.IsCancellationRequested)
            {
                dir ??= Directory.GetDirectories(stateRoot).FirstOrDefault(d => !before.Contains(d));
                if (dir is not null)
                {
                    double t = sw.Elapsed.TotalSeconds;
                    string pidFile = Path.Combine(dir, "qemu.pid");
                    if (double.IsNaN(boot.QemuPid) && File.Exists(pidFile) && int.TryParse(SafeRead(pidFile).Trim(), out qemuPid)) boot.QemuPid = t;
                    string log = SafeRead(Path.Combine(dir, "console.log"));
                    if (log.Length > 0 && double.IsNaN(boot.Console)) boot.Console = t;
                    foreach (Match m in Up.Matches(log))
                    {
                        double up = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                        string what = m.Groups[2].Value;
                        if (what.StartsWith("init ", StringComparison.Ordinal) && double.IsNaN(boot.Init)) { boot.Init = t; boot.GuestInit = up; if (qemuPid > 0) boot.CpuAtInit = Proc.CpuSeconds(qemuPid); }
                        else if (what.StartsWith("boot modules loaded", StringComparison.Ordinal) && double.IsNaN(boot.Mods)) { boot.Mods = t; boot.GuestMods = up; }
                        else if (what.StartsWith("restore-agent --listen", StringComparison.Ordinal) && double.IsNaN(boot.Exec)) { boot.Exec = t; boot.GuestExec = up; if (qemuPid > 0) boot.CpuAtExec = Proc.CpuSeconds(qemuPid); }
                    }
                    if (double.IsNaN(boot.Listening) && log.Contains(" listening on ", StringComparison.Ordinal)) { boot.Listening = t; if (qemuPid > 0) boot.CpuAtListening = Proc.CpuSeconds(qemuPid); }
                }
                Thread.Sleep(5);
            }
        });
        Probe.Reset();
        Probe.Clock = sw;
        vm = manager.Start(images, options);
        boot.Ready = sw.Elapsed.TotalSeconds;
        boot.Cpu = Proc.CpuSeconds(vm.Pid);
        boot.Threads = Proc.Format(Proc.ThreadCpu(vm.Pid));
        boot.Probes = Probe.Attempts;
        boot.FirstProbeOk = Probe.FirstOk;
        Thread.Sleep(30);
        stop.Cancel();
        watcher.Wait();
        return boot;
    }

    private static string SafeRead(string path)
    {
        try { using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite); return new StreamReader(s).ReadToEnd(); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    private void ReportBoots(List<Boot> runs)
    {
        double M(Func<Boot, double> f) => Stats.Median(runs.Select(f).Where(v => !double.IsNaN(v)));
        double ready = M(b => b.Ready);
        Table.Info($"a cold boot (Start -NoSnapshot) -> first authenticated answer, TCG", $"{ready:F2} s",
            $"{runs.Count} boots: {Stats.List(runs.Select(b => b.Ready))} s; load {string.Join(" ", runs.Select(b => b.Load))}");
        Table.Info("a qemu CPU seconds at the first answer (user+sys, all vCPU threads)", $"{M(b => b.Cpu):F2} s", $"{Stats.List(runs.Select(b => b.Cpu))} s");
        Table.Info("a   phase: Start -> qemu.pid written (token initrd copy, qemu exec)", $"{M(b => b.QemuPid):F2} s", $"{Stats.List(runs.Select(b => b.QemuPid))}");
        Table.Info("a   phase: qemu.pid -> guest clock starts (qemu init, 66 MB vmlinux + initrd load)", $"{M(b => b.GuestZero - b.QemuPid):F2} s", "estimated: host time /init was seen - guest uptime at /init; PVH entry, no firmware");
        Table.Info("a   phase: kernel boot to /init (guest uptime at /init; initramfs unpack included)", $"{M(b => b.GuestInit):F2} s", $"{Stats.List(runs.Select(b => b.GuestInit))}; qemu CPU at /init {M(b => b.CpuAtInit):F2} s");
        Table.Info("a   phase: /init -> boot modules loaded (virtio modprobe)", $"{M(b => b.GuestMods - b.GuestInit):F2} s", "guest clock");
        Table.Info("a   phase: boot modules -> agent exec'd (eth0, token)", $"{M(b => b.GuestExec - b.GuestMods):F2} s", "guest clock");
        Table.Info("a   phase: agent exec'd -> 'listening' on the console", $"{M(b => b.Listening - b.Exec):F2} s", $"host clock (console polled every 5 ms); qemu CPU in this phase {M(b => b.CpuAtListening - b.CpuAtExec):F2} s");
        Table.Info("a   phase: 'listening' -> first authenticated answer seen by the probe", $"{M(b => b.FirstProbeOk - b.Listening):F2} s", "manager polls every 50 ms + probe round trip through slirp");
        Table.Info("a   phase: first answer -> Start returned", $"{M(b => b.Ready - b.FirstProbeOk) * 1000:F0} ms", "");
        Table.Info("a Stop-RestoreVM path (RestoreVmManager.Stop): POST stop -> qemu gone", $"{M(b => b.StopSeconds):F2} s", "");
        Notes.Add("a: per boot (host seconds from Start unless 'guest'):");
        foreach (var b in runs) Notes.Add("   " + b);
        Notes.Add("a: Start = RestoreVmManager.Start with the probe Start-RestoreVM uses (AgentClient.GetStatus with the token, 1 s timeout, a new client per try, 50 ms between tries); "
                  + "markers from the serial console (console=ttyS0 quiet): '/init' = `restore-vm: [uptime] init`, 'modules' = `boot modules loaded`, 'agent exec'd' = `restore-agent --listen ...`, 'listening' = the agent's start-up log line.");
    }

    /// <summary>
    /// vm/run-vm.sh (the engine's launcher through restore-agent run-vm) with -smp 2 and, as a control, -smp 1 (the manager's default),
    /// and with --smp 1 as a control: same kernel, initrd, image, TCG; polled like the manager (50 ms).
    /// </summary>
    private void CompareRunVm(int n)
    {
        var results = new Dictionary<int, List<(double Ready, double Cpu)>> { [1] = [], [2] = [] };
        for (int i = 0; i < n; i++)
        {
            foreach (int smp in new[] { 2, 1 })
            {
                string st = Path.Combine(work, $"runvm-{smp}-{i}");
                if (Directory.Exists(st)) Directory.Delete(st, true);
                Directory.CreateDirectory(st);
                var sw = Stopwatch.StartNew();
                string outText = Sh.Run($"{Sh.Q(Path.Combine(repo, "vm/run-vm.sh"))} --state {Sh.Q(st)} --transport tcp --smp {smp} --kernel {Sh.Q(kernel)} --initrd {Sh.Q(initrd)} -i {Disk}={Sh.Q(image)}");
                var kv = outText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(a => a.Length == 2).ToDictionary(a => a[0], a => a[1]);
                int pid = int.Parse(kv["pid"]);
                using var client = AgentClient.WithTokenFile(kv["endpoint"], Path.Combine(st, "token"));
                client.RequestTimeout = TimeSpan.FromSeconds(1);
                double ready = double.NaN, cpu = double.NaN;
                while (sw.Elapsed < TimeSpan.FromSeconds(180))
                {
                    try { client.GetStatus(); ready = sw.Elapsed.TotalSeconds; cpu = Proc.CpuSeconds(pid); break; }
                    catch (Exception) { Thread.Sleep(50); }
                }
                try { client.Stop(); } catch (Exception) { }
                var gone = Stopwatch.StartNew();
                while (File.Exists($"/proc/{pid}/stat") && gone.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(50);
                if (File.Exists($"/proc/{pid}/stat")) Sh.Out($"kill {pid}");
                Console.Error.WriteLine($"vm bench: run-vm.sh --smp {smp}: ready {ready:F2} s, qemu CPU {cpu:F2} s, load {Sh.Load()}");
                results[smp].Add((ready, cpu));
                if (!double.IsNaN(ready)) Directory.Delete(st, true);
            }
        }
        foreach (int smp in new[] { 2, 1 })
        {
            var r = results[smp];
            Table.Info($"a reference: vm/run-vm.sh --smp {smp} -> first authenticated answer (median of {n})", $"{Stats.Median(r.Select(x => x.Ready)):F2} s",
                $"{Stats.List(r.Select(x => x.Ready))} s; qemu CPU {Stats.Median(r.Select(x => x.Cpu)):F2} s");
        }
    }

    /// <summary>What Start-RestoreVM's AgentVmProbe does (that class is internal to the module), counting tries.</summary>
    private sealed class Probe : IRestoreVmAgentProbe
    {
        public static int Attempts;
        public static double FirstOk = double.NaN;
        public static Stopwatch Clock = Stopwatch.StartNew();
        public static void Reset() { Attempts = 0; FirstOk = double.NaN; }

        public bool IsReady(RestoreVmInfo vm, TimeSpan timeout, int disks, CancellationToken cancellationToken)
        {
            Attempts++;
            using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
            client.RequestTimeout = timeout;
            try { if (client.GetStatus().Disks < disks) return false; }
            catch (Exception) { return false; }
            if (double.IsNaN(FirstOk)) FirstOk = Clock.Elapsed.TotalSeconds;
            return true;
        }

        public bool RequestStop(RestoreVmInfo vm)
        {
            using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
            client.RequestTimeout = TimeSpan.FromSeconds(2);
            try { client.Stop(); return true; }
            catch (Exception) { return false; }
        }
    }

    // ---- (b) list and extract through the VM vs the host ----

    private void Transfer(RestoreVmInfo vm)
    {
        using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
        client.RequestTimeout = TimeSpan.FromSeconds(120);
        string header = Path.Combine(vm.StateDir, "auth.header");
        File.WriteAllText(header, $"Authorization: Bearer {File.ReadAllText(vm.TokenFile).Trim()}\n");
        var sw = Stopwatch.StartNew();
        var bucket = client.Mount($"/{Disk}/raw");
        double mountSecs = sw.Elapsed.TotalSeconds;
        Notes.Add($"b: in the VM: {bucket.Path} {bucket.FileSystem} mounted at {bucket.MountPoint} in {mountSecs:F2} s (first ext4 mount: the module is loaded on demand)");
        Table.Info("b first mount in the VM (POST mount, ext4 module on demand)", $"{mountSecs:F2} s");

        string mnt = Path.Combine(work, "vmtree-mnt");
        Directory.CreateDirectory(mnt);
        Sh.Run($"mount -o ro,loop,noload {Sh.Q(image)} {Sh.Q(mnt)}");
        try
        {
            string vmTar = $"curl -sS -f -H @{Sh.Q(header)} '{vm.Endpoint}/api/v1/extract?path=%2F{Disk}%2Fraw%2Ftree&format=tar' | cat > /dev/null";
            string hostTar = $"tar -C {Sh.Q(mnt)} -cf - tree | cat > /dev/null";
            string hostList = $"ls -lR {Sh.Q(Path.Combine(mnt, "tree"))} > /dev/null";
            long files = 0, folders = 0, bytes = 0;
            double VmList()
            {
                files = folders = bytes = 0;
                var t = Stopwatch.StartNew();
                Walk($"/{Disk}/raw/tree");
                return t.Elapsed.TotalSeconds;
                void Walk(string path)
                {
                    foreach (var item in client.List(path))
                    {
                        if (item.Type == ItemType.Directory) { folders++; Walk(item.Path); }
                        else { files++; bytes += item.Size; }
                    }
                }
            }

            // first = the guest's page cache is empty (this VM has not read the tree), host caches dropped
            DropCaches();
            double vmListFirst = VmList();
            double vmCpu0 = Proc.CpuSeconds(vm.Pid);
            double vmTarFirst = Sh.Time(vmTar);
            double vmTarCpu = Proc.CpuSeconds(vm.Pid) - vmCpu0;
            DropCaches();
            double hostListFirst = Sh.Time(hostList);
            double hostTarFirst = Sh.Time(hostTar);
            Table.Ratio("b recursive list of the tree, first (VM: agent list per folder | host: ls -lR)", vmListFirst, hostListFirst, null,
                note: $"{files:N0} files, {folders} folders, {bytes / 1e6:F1} MB listed; {folders + 1} list requests");
            Table.Ratio("b tar export of the tree, first (VM: extract|curl|cat | host: tar|cat)", vmTarFirst, hostTarFirst, null,
                note: $"{bytes / 1e6 / vmTarFirst:F0} MB/s through the VM; qemu CPU {vmTarCpu:F2} s");

            var vl = new List<double>(); var hl = new List<double>(); var vt = new List<double>(); var ht = new List<double>(); var cpu = new List<double>();
            string tarThreads = "", listThreads = "";
            for (int i = 0; i < repeat; i++)
            {
                vl.Add(VmList()); hl.Add(Sh.Time(hostList));
                double c0 = Proc.CpuSeconds(vm.Pid);
                var th0 = Proc.ThreadCpu(vm.Pid);
                vt.Add(Sh.Time(vmTar));
                cpu.Add(Proc.CpuSeconds(vm.Pid) - c0);
                tarThreads = Proc.Format(Proc.Minus(Proc.ThreadCpu(vm.Pid), th0));
                var l0 = Proc.ThreadCpu(vm.Pid);
                VmList();
                listThreads = Proc.Format(Proc.Minus(Proc.ThreadCpu(vm.Pid), l0));
                ht.Add(Sh.Time(hostTar));
            }
            Table.Ratio($"b recursive list of the tree, warm (median of {repeat})", Stats.Median(vl), Stats.Median(hl), null,
                note: $"VM {Stats.List(vl)} / host {Stats.List(hl)} s");
            Table.Ratio($"b tar export of the tree, warm (median of {repeat})", Stats.Median(vt), Stats.Median(ht), null,
                note: $"VM {Stats.List(vt)} / host {Stats.List(ht)} s; {bytes / 1e6 / Stats.Median(vt):F0} MB/s; qemu CPU {Stats.Median(cpu):F2} s/export");
            Notes.Add($"b: qemu CPU by thread during one warm tar export: {tarThreads}; during one warm recursive list: {listThreads} (main thread = qemu main loop: slirp TCP/IP, virtio-net/virtio-blk backends; other threads = the TCG vCPU thread(s) running guest code, I/O workers)");
            long vmBytes = long.Parse(Sh.Run(vmTar.Replace("| cat > /dev/null", "| wc -c")).Trim());
            long hostBytes = long.Parse(Sh.Run($"tar -C {Sh.Q(mnt)} -cf - tree | wc -c").Trim());
            Notes.Add($"b: archives: VM {vmBytes / 1048576.0:F1} MiB, GNU tar {hostBytes / 1048576.0:F1} MiB; the VM path is agent (guest) -> virtio-net -> slirp (qemu user-mode TCP) -> 127.0.0.1:{new Uri(vm.Endpoint).Port} -> curl -> cat");
            Notes.Add("b: host reference = `mount -o ro,loop,noload` of the same image file (unmounted afterwards); 'first' runs follow `sync; echo 3 > /proc/sys/vm/drop_caches` on the host (the guest's cache is empty on its first read)");
        }
        finally
        {
            Sh.Out($"umount {Sh.Q(mnt)}");
            try { Directory.Delete(mnt); } catch (IOException) { }
        }
    }

    private static void DropCaches()
    {
        Sh.Run("sync");
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
    }
}
