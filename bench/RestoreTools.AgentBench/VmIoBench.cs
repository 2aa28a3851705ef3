using System.Diagnostics;
using RestoreTools.Contract;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.AgentBench;

/// <summary>
/// bench/vm.sh --io (issue 15): data out of a running restore VM through AgentClient (the one
/// client, whatever the transport), with a host loop mount of the same image as the reference in
/// the same run: a small folder listed with its first mount, a 50 MB file, a tar of 10,000 files
/// in one folder on ext4, xfs and (in the VM only: this host has no vfat) FAT32.
/// Each round starts a VM (a boot snapshot resumed), so every first touch is a real one.
/// </summary>
internal sealed class VmIoBench(string kernel, string initrd, string work, int rounds, bool fat, string transport, int? cpus = null)
{
    public readonly Table Table = new();
    public readonly List<string> Notes = [];
    private static readonly string[] HostFs = ["ext4", "xfs"];

    public void Run()
    {
        string stateRoot = Path.Combine(work, "vms");
        Directory.CreateDirectory(stateRoot);
        using var manager = new RestoreVmManager(new Probe(), stateRoot);
        var options = new RestoreVmOptions
        {
            Kernel = kernel, Initrd = initrd, TimeoutSeconds = 180, IdleTimeoutSeconds = 900,
            SnapshotDir = Path.Combine(work, "snapshots"), Transport = transport,
            Cpus = cpus,
        };
        var images = new[] { "ext4", "xfs", "fat" }.Select(fs => RestoreVmImage.FromPath(Path.Combine(work, $"vmio-{fs}.img"), $"vmio-{fs}")).ToArray();
        manager.Stop(manager.Start(images, options).Id);   // saves the snapshot once

        var r = new Dictionary<string, List<double>>();
        void Add(string key, double v)
        {
            if (!r.TryGetValue(key, out var l)) r[key] = l = [];
            l.Add(v);
            Console.Error.WriteLine($"vm io bench: {key} {v:F3}");
        }
        string usedTransport = "";
        for (int round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            var vm = manager.Start(images, options);
            Add("resume", sw.Elapsed.TotalSeconds);
            Add("qemu rss resumed", Proc.StatusKiB(vm.Pid, "VmRSS") / 1024.0);
            usedTransport = $"{vm.Transport} ({vm.Endpoint}), boot {vm.Boot}";
            try
            {
                using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
                client.RequestTimeout = TimeSpan.FromSeconds(300);
                client.GetStatus();   // the connection is made; what follows is the transfer
                foreach (var fs in HostFs)
                {
                    Add($"list {fs}", Time(() => client.List($"/vmio-{fs}/raw/small").Count()));
                    Add($"host list {fs}", HostMounted(fs, mnt => Sh.Time($"ls -l {Sh.Q(mnt + "/small")} > /dev/null"), includeMount: true));
                }
                Add("big", Time(() => Read(client, "/vmio-ext4/raw/big.bin")));
                Add("big warm", Time(() => Read(client, "/vmio-ext4/raw/big.bin")));
                Add("host big", HostMounted("ext4", mnt => Sh.Time($"cat {Sh.Q(mnt + "/big.bin")} | cat > /dev/null")));
                foreach (var fs in HostFs)
                {
                    Add($"tar {fs}", Time(() => Tar(client, $"/vmio-{fs}/raw/many")));
                    Add($"host tar {fs}", HostMounted(fs, mnt => Sh.Time($"tar -C {Sh.Q(mnt)} -cf - many | cat > /dev/null")));
                }
                Add("tar ext4 warm", Time(() => Tar(client, "/vmio-ext4/raw/many")));
                if (fat)
                {
                    Add("list fat", Time(() => client.List("/vmio-fat/raw/small").Count()));
                    Add("tar fat", Time(() => Tar(client, "/vmio-fat/raw/many")));
                }
                Add("qemu rss", Proc.StatusKiB(vm.Pid, "VmHWM") / 1024.0);
                // The agent logs its peak memory as it exits: stop it, and read the console before the folder goes.
                try { client.Stop(); } catch (Exception) { }
                var wait = Stopwatch.StartNew();
                while (wait.Elapsed < TimeSpan.FromSeconds(10))
                {
                    var m = System.Text.RegularExpressions.Regex.Match(ReadShared(vm.ConsoleLog), @"peak memory ([\d.]+) MiB");
                    if (m.Success) { Add("agent peak", double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)); break; }
                    Thread.Sleep(50);
                }
                Console.Error.WriteLine($"vm io bench: round {round + 1} done: " + string.Join(", ", r.Select(kv => $"{kv.Key} {kv.Value[^1]:F2}")));
            }
            finally
            {
                try { manager.Stop(vm.Id); } catch (RestoreTools.Engine.RestoreException) { /* already gone after POST stop */ }
            }
        }

        double M(string k) => Stats.Median(r[k]);
        string L(string k) => Stats.List(r[k]);
        Notes.Add($"transport: {usedTransport}; {cpus ?? RestoreVmOptions.DefaultCpus} vCPU; {rounds} rounds, each in a freshly resumed VM (medians; VM list = first touch, mount included; VM 'big'/'tar' = the guest's first read, the host's page cache warm)");
        Table.Goal($"resume (Start from the boot snapshot, 3 disks plugged in), median of {rounds}", $"{M("resume"):F2} s", "<= 0.6 s", M("resume") <= 0.6, L("resume") + " s");
        Table.Goal("qemu RSS just after the resume (the footprint of a ready VM)", $"{M("qemu rss resumed"):F0} MiB", "<= 220 MiB", M("qemu rss resumed") <= 220, L("qemu rss resumed") + " MiB");
        Table.Info("qemu peak RSS (VmHWM) after the round's transfers", $"{M("qemu rss"):F0} MiB", L("qemu rss") + " MiB (the guest's page cache filled by the reads)");
        if (r.ContainsKey("agent peak"))
            Table.Goal("agent peak memory in the VM (its VmHWM, logged as it exits)", $"{M("agent peak"):F1} MiB", "<= 64 MB", M("agent peak") * 1.048576 <= 64, L("agent peak") + " MiB");
        foreach (var fs in HostFs)
            Table.Ratio($"list small/ (8 entries), first touch with mount, {fs} (VM | host: mount + ls -l + umount)", M($"list {fs}"), M($"host list {fs}"), null,
                note: $"VM {L($"list {fs}")} s; goal VM <= 0.15 s (libguestfs 0.25 s); host {L($"host list {fs}")}");
        Table.Ratio("50 MB file out, ext4, guest cold (VM: OpenRead | host: cat | cat)", M("big"), M("host big"), null,
            note: $"VM {L("big")} s, {50 / M("big"):F0} MB/s; goal VM <= 0.8 s (libguestfs 1.70 s)");
        Table.Info("50 MB file out, ext4, guest warm", $"{M("big warm"):F3} s", $"{L("big warm")} s, {50 / M("big warm"):F0} MB/s");
        foreach (var fs in HostFs)
            Table.Ratio($"tar of 10,000 files in one folder, {fs}, guest cold (VM: Export Tar | host: tar | cat)", M($"tar {fs}"), M($"host tar {fs}"), null,
                note: $"VM {L($"tar {fs}")} s" + (fs == "ext4" ? "; goal VM <= 2.5 s (libguestfs 5.94 s)" : ""));
        Table.Info("tar of 10,000 files, ext4, guest warm", $"{M("tar ext4 warm"):F3} s", L("tar ext4 warm") + " s");
        if (r.ContainsKey("tar fat"))
        {
            Table.Info("list small/ first touch with mount, FAT32 (VM, the engine's FAT reader)", $"{M("list fat"):F3} s", L("list fat") + " s");
            Table.Goal("tar of 10,000 files in one folder, FAT32 (VM, read by the engine's FAT reader)", $"{M("tar fat"):F2} s", "<= 2x the ext4 tar", M("tar fat") <= 2 * M("tar ext4"),
                $"{M("tar fat") / M("tar ext4"):F1}x ext4; {L("tar fat")} s (kernel vfat: 13.8x; libguestfs 85 s, 14x)");
        }
    }

    private static string ReadShared(string path)
    {
        try { using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); return new StreamReader(f).ReadToEnd(); }
        catch (IOException) { return ""; }
    }

    private static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalSeconds;
    }

    private static void Read(AgentClient client, string path)
    {
        using var s = client.OpenRead(path);
        s.CopyTo(Stream.Null, 1 << 20);
    }

    private static void Tar(AgentClient client, string path) =>
        client.Export(path, Stream.Null, new ExportOptions(ExportFormat.Tar));

    /// <summary>The image loop-mounted read-only on the host for one reference figure; the mount's own time counted only when asked.</summary>
    private double HostMounted(string fs, Func<string, double> measure, bool includeMount = false)
    {
        string mnt = Path.Combine(work, "host-mnt");
        Directory.CreateDirectory(mnt);
        string opts = fs == "ext4" ? "ro,loop,noload" : "ro,loop,norecovery";
        double t0 = Sh.Time($"mount -o {opts} {Sh.Q(Path.Combine(work, $"vmio-{fs}.img"))} {Sh.Q(mnt)}");
        try { return measure(mnt) + (includeMount ? t0 : 0); }
        finally { Sh.Out($"umount {Sh.Q(mnt)}"); }
    }

    private sealed class Probe : IRestoreVmAgentProbe
    {
        public bool IsReady(RestoreVmInfo vm, TimeSpan timeout, int disks, CancellationToken cancellationToken)
        {
            using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
            client.RequestTimeout = timeout;
            try { return client.GetStatus().Disks >= disks; }
            catch (Exception) { return false; }
        }

        public bool RequestStop(RestoreVmInfo vm)
        {
            using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
            client.RequestTimeout = TimeSpan.FromSeconds(2);
            try { client.Stop(); return true; }
            catch (Exception) { return false; }
        }
    }
}
