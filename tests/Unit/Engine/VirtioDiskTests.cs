using RestoreTools.Engine;
using RestoreTools.Engine.Disks;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// Virtio disks named by serial, as in a restore VM. This host has no virtio image disks, so a
/// fake sysfs tree describes them; its dev files point at real read-only loop devices, so the
/// engine makes real nodes with mknod and really reads and mounts through them.
/// </summary>
public sealed class VirtioDiskTests : IDisposable
{
    private const string LongName = "drive-scsi0-a-very-long-archive-name.img.fidx";
    private readonly TestImages _images = new();
    private readonly string _sys;
    private readonly string _loop;
    private readonly TestEngine _t;

    public VirtioDiskTests()
    {
        var img = _images.FileSystem("ext4", 16, "vroot", _images.Tree("v", ("etc/hostname", "virtio-host")));
        _loop = Shell.Run($"losetup --read-only --find --show '{img}'").Trim();
        string dev = File.ReadAllText($"/sys/block/{Path.GetFileName(_loop)}/dev").Trim();

        _sys = Path.Combine(_images.Dir, "sys");
        Disk("vda", " drive-scsi0 \n", dev);          // the serial is trimmed
        Disk("vdb", null, dev);                       // no serial file: skipped with a warning
        Disk("vdc", LongName[..20] + "\n", dev);      // qemu cut the serial at 20 characters
        Disk("vdd", "drive-scsi1.img.fidx\n", dev);  // a Proxmox archive name: the disk is drive-scsi1
        Disk("vde", LongName[..20] + "\n", dev);      // the same 20 characters as vdc: told apart
        Directory.CreateDirectory(Path.Combine(_sys, "block", "sda"));  // not virtio: ignored
        _t = new TestEngine(_sys);
    }

    private void Disk(string name, string? serial, string dev)
    {
        string dir = Path.Combine(_sys, "block", name);
        Directory.CreateDirectory(dir);
        if (serial is not null) File.WriteAllText(Path.Combine(dir, "serial"), serial);
        File.WriteAllText(Path.Combine(dir, "dev"), dev + "\n");
        File.WriteAllText(Path.Combine(dir, "size"), (16 * 1024 * 2) + "\n");
    }

    public void Dispose()
    {
        _t.Dispose();
        Shell.Run($"losetup -d '{_loop}'");
        _images.Dispose();
    }

    [Fact]
    public void DisksAreNamedBySerialAndUnreadableSerialsSkipped()
    {
        var disks = _t.Engine.GetDisks();
        Assert.Equal(["drive-scsi0", LongName[..20], "drive-scsi1", LongName[..20] + "~vde"], disks.Select(d => d.Name));
        Assert.Equal("drive-scsi1.img.fidx", disks[2].Serial);
        Assert.Equal(LongName[..20], disks[3].Serial);
        Assert.Single(_t.Warnings, w => w.Contains("vdc and vde both have the name"));
        _t.Engine.GetDisks();
        Assert.Single(_t.Warnings, w => w.Contains("vdc and vde both have the name")); // once, not at every listing
        Assert.All(disks, d => Assert.Equal("virtio", d.Source));
        Assert.Equal(16L * 1024 * 1024, disks[0].Size);
        Assert.Contains(_t.Warnings, w => w.Contains("vdb") && w.Contains("serial"));
        // /dev has vda of its own on this host; the engine made its own node for the fake one.
        Assert.StartsWith(_t.StateDir, disks[0].Device);
    }

    [Fact]
    public void ArchiveNamesAndLongNamesFindTheirDisks()
    {
        Assert.Equal("virtio-host", File.ReadAllText(_t.Engine.Resolve("/drive-scsi0.img.fidx/raw/etc/hostname").LocalPath!));
        Assert.Equal(LongName[..20], _t.Engine.Resolve("/" + LongName).Disk);
        Assert.Equal("drive-scsi1", _t.Engine.Resolve("/drive-scsi1.img.fidx/raw/etc").Disk);
        Assert.Equal("drive-scsi1", _t.Engine.Resolve("/drive-scsi1/raw/etc").Disk);
        Assert.Equal(RestoreErrorCode.DiskNotFound, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/drive-scsi9.img.fidx")).Code);
    }

    [Theory]
    [InlineData("drive-scsi0.img.fidx", new[] { "drive-scsi0.img.fidx", "drive-scsi0", "drive-scsi0.img.fidx" })]
    [InlineData("short", new[] { "short" })]
    [InlineData("a-disk-name-of-thirty-chars.raw", new[] { "a-disk-name-of-thirty-chars.raw", "a-disk-name-of-thirt" })]
    public void NameCandidates(string requested, string[] expected) =>
        Assert.Equal(expected.Distinct(), DiskNameMatcher.Candidates(requested).Distinct());
}
