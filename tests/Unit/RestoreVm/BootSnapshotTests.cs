using RestoreTools.Engine.RestoreVm;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.RestoreVm;

/// <summary>
/// The snapshot's key and qemu command lines. That a saved VM really resumes (token per VM, disks
/// plugged in, a broken snapshot replaced) is tested end to end in tests/Pester/RestoreVm.Tests.ps1.
/// </summary>
public sealed class BootSnapshotTests : IDisposable
{
    private readonly TestImages _dir = new();

    public void Dispose() => _dir.Dispose();

    private RestoreVmOptions Options()
    {
        string kernel = Path.Combine(_dir.Dir, "vmlinux"), initrd = Path.Combine(_dir.Dir, "initrd.img");
        if (!File.Exists(kernel)) File.WriteAllText(kernel, "kernel");
        if (!File.Exists(initrd)) File.WriteAllText(initrd, "initrd");
        return new RestoreVmOptions { Kernel = kernel, Initrd = initrd, SnapshotDir = Path.Combine(_dir.Dir, "snapshots") };
    }

    [Fact]
    public void TheKeyChangesWithTheInitrdTheMemoryAndTheIdleTimeoutOnly()
    {
        var o = Options();
        string key = BootSnapshot.Key(o, "tcg");
        Assert.Equal(key, BootSnapshot.Key(o with { TimeoutSeconds = 99 }, "tcg"));
        Assert.NotEqual(key, BootSnapshot.Key(o with { MemoryMiB = 1024 }, "tcg"));
        Assert.NotEqual(key, BootSnapshot.Key(o with { IdleTimeoutSeconds = 60 }, "tcg"));
        Assert.NotEqual(key, BootSnapshot.Key(o, "kvm"));
        File.WriteAllText(o.Initrd, "a rebuilt initrd");
        Assert.NotEqual(key, BootSnapshot.Key(o, "tcg"));
    }

    [Fact]
    public void TheSavingAndTheResumingQemuHaveTheSameMachine()
    {
        var o = Options();
        Assert.Null(BootSnapshot.Find(o, "tcg"));
        string dir = Path.Combine(o.SnapshotDir!, BootSnapshot.Key(o, "tcg"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "state"), "");
        File.WriteAllText(Path.Combine(dir, "ram"), "");
        var snap = BootSnapshot.Find(o, "tcg")!;
        Assert.NotNull(snap);

        var save = BootSnapshot.Arguments(o, "tcg", snap, "/vm/a", "/vm/a/token", hostPort: null, resume: false);
        var resume = BootSnapshot.Arguments(o, "tcg", snap, "/vm/b", "/vm/b/token", hostPort: 40000, resume: true);
        string Join(List<string> a, string vm) => string.Join(' ', a).Replace(vm, "VM");
        string s = Join(save, "/vm/a"), r = Join(resume, "/vm/b");

        // Guest RAM: written through by the saving qemu, copy-on-write for every resumed one.
        Assert.Contains("share=on", s);
        Assert.Contains("share=off", r);
        // Nobody can reach the saving VM's agent; a resumed one is forwarded to loopback only.
        Assert.DoesNotContain("hostfwd", s);
        Assert.Contains("restrict=on,hostfwd=tcp:127.0.0.1:40000-", r);
        Assert.EndsWith("-incoming defer", r);
        Assert.Contains("restoretools.snapshot=1", s);
        Assert.Contains($"name={BootSnapshot.TokenFwCfgName},file=VM/token", r);
        Assert.Equal(o.SnapshotSlots, resume.Count(x => x.StartsWith("pcie-root-port,")));

        // Everything else, device by device, is the same.
        string Machine(string line) => line.Replace("share=off", "share=on").Replace(" -incoming defer", "")
            .Replace(",hostfwd=tcp:127.0.0.1:40000-10.0.2.15:8000", "");
        Assert.Equal(Machine(s), Machine(r));
    }
}
