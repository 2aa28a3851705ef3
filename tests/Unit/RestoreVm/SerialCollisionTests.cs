using RestoreTools.Engine;
using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.Tests.Unit.RestoreVm;

/// <summary>Names that virtio's 20-byte serial would make one disk are refused before any VM starts.</summary>
public sealed class SerialCollisionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-serial-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class NoProbe : IRestoreVmAgentProbe
    {
        public bool IsReady(RestoreVmInfo vm, TimeSpan timeout, int disks, CancellationToken cancellationToken) => throw new InvalidOperationException("no VM may start");
        public bool RequestStop(RestoreVmInfo vm) => false;
    }

    [Fact]
    public void TwoNamesAlikeInTheirFirst20BytesAreRefusedNamingBoth()
    {
        string a = Path.Combine(_dir, "a.img"), b = Path.Combine(_dir, "b.img");
        File.WriteAllBytes(a, new byte[512]);
        File.WriteAllBytes(b, new byte[512]);
        using var manager = new RestoreVmManager(new NoProbe(), Path.Combine(_dir, "vms"));
        var options = new RestoreVmOptions { Kernel = Path.Combine(_dir, "none"), Initrd = Path.Combine(_dir, "none") };

        var ex = Assert.Throws<RestoreException>(() => manager.Start(
            [new RestoreVmImage("au-very-long-serial-name-A", a, "raw"), new RestoreVmImage("au-very-long-serial-name-B", b, "raw")], options));
        Assert.Equal(RestoreErrorCode.NameInUse, ex.Code);
        Assert.Contains("'au-very-long-serial-name-A' and 'au-very-long-serial-name-B'", ex.Message);
        Assert.Contains("'au-very-long-serial-'", ex.Message);

        // Names that differ within 20 bytes get as far as the missing kernel.
        ex = Assert.Throws<RestoreException>(() => manager.Start(
            [new RestoreVmImage("disk-A-very-long-serial-name", a, "raw"), new RestoreVmImage("disk-B-very-long-serial-name", b, "raw")], options));
        Assert.Equal(RestoreErrorCode.VmStartFailed, ex.Code);
    }
}
