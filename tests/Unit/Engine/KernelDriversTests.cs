using RestoreTools.Engine.Mounting;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>Which types a kernel can mount: listed in /proc/filesystems, or a module modules.alias names for "fs-TYPE".</summary>
public sealed class KernelDriversTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-kdrv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ListedOrLoadableTypesAreMountableOthersNot()
    {
        string proc = Path.Combine(_dir, "proc"), mods = Path.Combine(_dir, "lib/modules");
        Directory.CreateDirectory(Path.Combine(proc, "sys/kernel"));
        Directory.CreateDirectory(Path.Combine(mods, "6.1.0-test"));
        File.WriteAllText(Path.Combine(proc, "filesystems"), "nodev\tproc\n\text4\nnodev\tfuse\n");
        File.WriteAllText(Path.Combine(proc, "sys/kernel/osrelease"), "6.1.0-test\n");
        File.WriteAllText(Path.Combine(mods, "6.1.0-test/modules.alias"), "alias fs-f2fs f2fs\nalias fs-hfsplus hfsplus\nalias crypto-crc32c crc32c_generic\n");

        Assert.True(KernelDrivers.CanMount("ext4", proc, mods));
        Assert.True(KernelDrivers.CanMount("f2fs", proc, mods));
        Assert.False(KernelDrivers.CanMount("hfs", proc, mods));      // "fs-hfsplus" is not "fs-hfs"
        Assert.False(KernelDrivers.CanMount("fuse", proc, mods));     // nodev: no block device to mount
        Assert.False(KernelDrivers.CanMount("vfat", proc, Path.Combine(_dir, "none")));
    }

    [Fact]
    public void ThisHostHasNoModules()
    {
        // This machine's kernel has no /lib/modules: only what /proc/filesystems lists.
        if (Directory.Exists("/lib/modules")) return;
        Assert.True(KernelDrivers.CanMount("ext4"));
        Assert.False(KernelDrivers.CanMount("vfat"));
    }
}
