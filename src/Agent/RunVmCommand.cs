using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using RestoreTools.Engine;
using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.Agent;

/// <summary>
/// restore-agent run-vm: the engine's own VM launcher (RestoreVmManager.Launch) for scripts, so the
/// kernel command line, CPU, drives and transport are known in one place. vm/run-vm.sh calls it;
/// vm/test-vm.sh, vm/bench-vm.sh and the LVM and filesystem image makers go through it.
/// </summary>
public static class RunVmCommand
{
    public const string HelpText = """
        restore-agent run-vm: start a restore VM with the engine's launcher (for scripts)

        Usage: restore-agent run-vm -i NAME=PATH [-i ...] [options]

          -i, --image NAME=PATH   attach PATH read-only (below a throw-away overlay) as a virtio
                                  disk whose serial is NAME
          -w, --rw-image NAME=PATH   attach raw PATH writable, no overlay (test fixtures filled in a VM)
          --state DIR             the VM's folder (console.log, qemu.pid, token, ...); default a new
                                  folder under ${TMPDIR:-/tmp}
          --kernel FILE           default out/vm/vmlinux beside this program's out/agent
          --initrd FILE           base initramfs, default out/vm/initrd.img
          --transport T           auto (default: vsock where the host has vhost-vsock, else
                                  virtio-serial), virtio-serial, tcp or vsock
          --idle SECONDS          the agent's idle timeout (default 600)
          --mem MB                default 512
          --smp N                 virtual CPUs (default 2, 1 on a one-core host)
          --accel auto|kvm|tcg    default auto (KVM only with kvm_intel/kvm_amd)
          --append ARGS           more kernel command line (repeatable)
          --no-recovery           no overlays: the images read-only as they are
          --selftest              boot with restoretools.selftest=1, wait; exit 0 on "SELFTEST OK"
          --wait                  stay until the VM powers off (exit 0), else return once qemu runs

        Prints transport=, endpoint=, port= (tcp), pid=, state=, console=, token-file= (one a line).
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        var images = new List<RestoreVmImage>();
        string? state = null, kernel = null, initrd = null;
        string transport = "auto", accel = "auto";
        int idle = 600, mem = 512;
        int? smp = null;
        var append = new List<string>();
        bool selftest = false, wait = false, noRecovery = false;
        try
        {
            for (int i = 0; i < args.Count; i++)
            {
                string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "-i" or "--image": images.Add(Image(Value(), writable: false)); break;
                    case "-w" or "--rw-image": images.Add(Image(Value(), writable: true)); break;
                    case "--state": state = Value(); break;
                    case "--kernel": kernel = Value(); break;
                    case "--initrd": initrd = Value(); break;
                    case "--transport": transport = Value(); break;
                    case "--accel": accel = Value(); break;
                    case "--idle": idle = Number(args[i], Value()); break;
                    case "--mem": mem = Number(args[i], Value()); break;
                    case "--smp": smp = Number(args[i], Value()); break;
                    case "--append": append.Add(Value()); break;
                    case "--no-recovery": noRecovery = true; break;
                    case "--selftest": selftest = wait = true; break;
                    case "--wait": wait = true; break;
                    case "-h" or "--help": Console.Out.WriteLine(HelpText); return 0;
                    default: throw new UsageException($"unknown argument '{args[i]}'");
                }
            }
            if (accel is not ("auto" or "kvm" or "tcg")) throw new UsageException("--accel auto|kvm|tcg");
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"run-vm: {ex.Message} (see run-vm --help)");
            return 2;
        }

        // Default files: out/vm beside this program's out/agent (the repository's build layout).
        string outDir = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, ".."));
        if (selftest) append.Insert(0, "restoretools.selftest=1");
        state ??= Directory.CreateTempSubdirectory("restore-vm.").FullName;
        var options = new RestoreVmOptions
        {
            Kernel = Path.GetFullPath(kernel ?? Path.Combine(outDir, "vm", "vmlinux")),
            Initrd = Path.GetFullPath(initrd ?? Path.Combine(outDir, "vm", "initrd.img")),
            MemoryMiB = mem,
            Cpus = smp,
            IdleTimeoutSeconds = idle,
            Accelerator = accel,
            Transport = transport,
            NoRecovery = noRecovery,
            StateDir = state,
            KernelArguments = append.Count > 0 ? string.Join(' ', append) : null,
        };
        RestoreVmInfo vm;
        try
        {
            // Not disposed: the VM outlives this command unless --wait.
            var manager = new RestoreVmManager(new NoProbe(), Path.GetDirectoryName(Path.GetFullPath(state))!);
            vm = manager.Launch(images, options);
        }
        catch (RestoreException ex)
        {
            Console.Error.WriteLine($"run-vm: {ex.Message}");
            return 1;
        }
        File.WriteAllText(Path.Combine(vm.StateDir, "started"), (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
        Console.Out.WriteLine($"transport={vm.Transport}");
        Console.Out.WriteLine($"endpoint={vm.Endpoint}");
        if (vm.Transport == VmTransport.Tcp) Console.Out.WriteLine($"port={new Uri(vm.Endpoint).Port}");
        Console.Out.WriteLine($"pid={vm.Pid}\nstate={vm.StateDir}\nconsole={vm.ConsoleLog}\ntoken-file={vm.TokenFile}");
        Console.Out.Flush();
        if (!wait) return 0;

        // Whoever stops this command (a script's timeout) stops its VM.
        void Kill(PosixSignalContext c)
        {
            try { using var q = Process.GetProcessById(vm.Pid); q.Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Kill);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Kill);
        var clock = Stopwatch.StartNew();
        while (RestoreVmManager.IsRunning(vm.Pid)) Thread.Sleep(50);
        Console.Out.WriteLine($"elapsed={clock.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)}");
        if (!selftest) return 0;
        string console = File.Exists(vm.ConsoleLog) ? File.ReadAllText(vm.ConsoleLog) : "";
        foreach (var line in console.Split('\n').Where(l => l.Contains("selftest:") || l.Contains("SELFTEST") || l.Contains("restore-vm:")))
            Console.Error.WriteLine(line.TrimEnd('\r'));
        if (console.Split('\n').Any(l => l.StartsWith("SELFTEST OK", StringComparison.Ordinal))) return 0;
        Console.Error.WriteLine($"run-vm: selftest failed (see {vm.ConsoleLog})");
        return 1;
    }

    private static RestoreVmImage Image(string spec, bool writable)
    {
        int eq = spec.IndexOf('=');
        if (eq <= 0 || eq == spec.Length - 1) throw new UsageException($"{(writable ? "-w" : "-i")} NAME=PATH, got '{spec}'");
        string path = Path.GetFullPath(spec[(eq + 1)..]);
        var image = RestoreVmImage.FromPath(path, spec[..eq]);
        return writable ? image with { Format = "raw", Writable = true } : image;
    }

    private static int Number(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new UsageException($"{name} {value}: expected a positive whole number");

    /// <summary>Launch does not ask the agent anything.</summary>
    private sealed class NoProbe : IRestoreVmAgentProbe
    {
        public bool IsReady(RestoreVmInfo vm, TimeSpan timeout, int disks, CancellationToken cancellationToken) => false;
        public bool RequestStop(RestoreVmInfo vm) => false;
    }
}
