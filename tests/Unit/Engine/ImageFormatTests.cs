using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// Images in qemu's container formats, made by qemu-img from a real GPT + ext4 disk, attached on
/// this host: each reads as the disk it holds (through qemu-storage-daemon's FUSE export), and is
/// left byte for byte as it was.
/// </summary>
public sealed class ImageFormatTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly string _raw;

    public ImageFormatTests()
    {
        var fs = _images.FileSystem("ext4", 24, "inside", _images.Tree("t", ("etc/hostname", "from-a-container\n")));
        _raw = _images.Disk("disk.raw", 32, "label: gpt\nsize=24MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n", (1, fs));
    }

    public void Dispose() => _images.Dispose();

    [Theory]
    [InlineData("qcow2", "qcow2")]
    [InlineData("vmdk", "vmdk")]
    [InlineData("vhdx", "vhdx")]
    [InlineData("vdi", "vdi")]
    [InlineData("vpc", "vhd")]
    public void AContainerImageReadsAsTheDiskItHolds(string format, string extension)
    {
        string image = Path.Combine(_images.Dir, "disk." + extension);
        Shell.Run($"qemu-img convert -f raw -O {format} '{_raw}' '{image}'");
        string sha = Shell.Sha256(image);
        using (var t = new TestEngine())
        {
            var disk = t.Engine.AttachImage(image, "c");
            Assert.Equal("gpt", disk.PartitionTable);
            Assert.Empty(disk.Warnings);
            using (var reader = new StreamReader(t.Engine.OpenRead("/c/part/1/etc/hostname")))
                Assert.Equal("from-a-container\n", reader.ReadToEnd());
            t.Engine.DetachImage("c");
            // The daemon and its FUSE mount went with the detach.
            Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(t.StateDir, StringComparison.Ordinal));
        }
        Assert.Equal(sha, Shell.Sha256(image));
    }

    [Fact]
    public void ImagesThatNameOtherFilesAreRefusedWithAReason()
    {
        string overlay = Path.Combine(_images.Dir, "overlay.qcow2");
        Shell.Run($"qemu-img create -q -f qcow2 -F raw -b '{_raw}' '{overlay}'");
        string split = Path.Combine(_images.Dir, "split.vmdk");
        Shell.Run($"qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse '{_raw}' '{split}'");
        using var t = new TestEngine();
        var ex = Assert.Throws<RestoreException>(() => t.Engine.AttachImage(overlay, "o"));
        Assert.Equal(RestoreErrorCode.NotSupported, ex.Code);
        Assert.Contains("backing file", ex.Message);
        ex = Assert.Throws<RestoreException>(() => t.Engine.AttachImage(split, "s"));
        Assert.Contains("vmdk descriptor", ex.Message);
        Assert.Empty(t.Engine.GetDisks());
    }

    [Fact]
    public void AKilledAgentsImageExportIsStoppedByTheNextOne()
    {
        string image = Path.Combine(_images.Dir, "killed.qcow2");
        Shell.Run($"qemu-img convert -f raw -O qcow2 '{_raw}' '{image}'");
        using var first = AgentProcess.Start(aot: false, token: true, "--image", "k=" + image);
        string fuse = Path.Combine(first.StateDir, "fuse");
        string Serving() => Shell.Run($"grep -c '{fuse}' /proc/self/mountinfo || true").Trim();
        Assert.Equal("1", Serving());
        first.Process.Kill();   // SIGKILL: its qemu-storage-daemon lives on, serving the FUSE file
        first.Process.WaitForExit();
        Assert.Equal("1", Serving());

        using var second = AgentProcess.Start(aot: false, token: true, "--state-dir", first.StateDir);
        Assert.Equal("0", Serving());
        Assert.Empty(Directory.EnumerateFiles(fuse));
        Assert.Empty(Shell.Run($"pgrep -f '^qemu-storage-daemon .*mountpoint={fuse}' || true").Trim());
    }
}
