using RestoreTools.Engine.RestoreVm;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.RestoreVm;

public sealed class TokenInitrdTests : IDisposable
{
    private readonly TestImages _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TheTokenIsASecondCpioArchiveThatCpioReads()
    {
        string tree = _dir.Tree("base", ("init", "#!/bin/sh\n"), ("etc/restoretools/restore-vm", ""));
        string baseInitrd = Path.Combine(_dir.Dir, "base.img");
        Shell.Run($"cd '{tree}' && find . | sort | cpio -o -H newc --quiet | gzip -9 > '{baseInitrd}'");
        string output = Path.Combine(_dir.Dir, "vm.img");
        TokenInitrd.Write(baseInitrd, "s3cret-token", output);

        // The base image is kept byte for byte; the appended archive unpacks to /restore/token, mode 0400.
        var all = File.ReadAllBytes(output);
        var head = File.ReadAllBytes(baseInitrd);
        Assert.Equal(head, all.AsSpan(0, head.Length).ToArray());
        string tail = Path.Combine(_dir.Dir, "tail.cpio");
        int start = (head.Length + 3) / 4 * 4;
        File.WriteAllBytes(tail, all[start..]);
        string outDir = Path.Combine(_dir.Dir, "x");
        Directory.CreateDirectory(outDir);
        Shell.Run($"cd '{outDir}' && cpio -id --quiet < '{tail}'");
        Assert.Equal("s3cret-token", File.ReadAllText(Path.Combine(outDir, "restore/token")));
        Assert.Equal("400", Shell.Run($"stat -c %a '{outDir}/restore/token'").Trim());
        Assert.Equal("600", Shell.Run($"stat -c %a '{output}'").Trim());
    }

    [Fact]
    public void KvmOnlyWithAHardwareKvmModule()
    {
        string sys = Path.Combine(_dir.Dir, "sys"), dev = Path.Combine(_dir.Dir, "dev");
        Directory.CreateDirectory(Path.Combine(sys, "module/kvm_pvm"));
        Directory.CreateDirectory(dev);
        Assert.Equal("tcg", Accelerators.Detect(sys, dev));                 // no /dev/kvm
        File.WriteAllText(Path.Combine(dev, "kvm"), "");
        Assert.Equal("tcg", Accelerators.Detect(sys, dev));                 // paravirtual KVM only
        Directory.CreateDirectory(Path.Combine(sys, "module/kvm_intel"));
        Assert.Equal("kvm", Accelerators.Detect(sys, dev));
    }

    [Theory]
    [InlineData("disk.qcow2", "qcow2")]
    [InlineData("disk.vmdk", "vmdk")]
    [InlineData("disk.img", "raw")]
    [InlineData("drive-scsi0.img.fidx", "raw")]
    public void FormatsAreStatedFromTheExtension(string file, string format) =>
        Assert.Equal(format, RestoreVmImage.FormatOf(file));
}
