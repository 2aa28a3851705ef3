using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>What a failed mount says on this host: the driver it lacks, or the kernel's own reason.</summary>
public sealed class MountErrorTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    /// <summary>This host's kernel has no minix and no modules: the error names the type and the way out, no errno.</summary>
    [Fact]
    public void ATypeThisHostCannotMountSaysUseARestoreVm()
    {
        Assert.DoesNotContain("minix", File.ReadAllText("/proc/filesystems").Split('\n').Select(l => l.Split('\t').Last()));
        string img = Path.Combine(_images.Dir, "minix.img");
        Shell.Run($"truncate -s 4M '{img}' && mkfs.minix -3 '{img}' >/dev/null");
        _t.Engine.AttachImage(img, "mx");
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Mount("/mx/raw"));
        Assert.Equal(RestoreErrorCode.MountFailed, ex.Code);
        Assert.Equal("mounting '/mx/raw' failed: minix: this host cannot mount it; use Start-RestoreVM", ex.Message);
        Assert.False(_t.Engine.GetBucket("/mx/raw").IsMounted);
    }

    /// <summary>
    /// An ext4 superblock with an incompatible feature bit the kernel does not know: the probe still says ext4,
    /// mount(2) says only EINVAL, and the error carries the kernel's log line that says why.
    /// </summary>
    [Fact]
    public void ARefusedMountCarriesTheErrnoAndTheKernelsLine()
    {
        // Without metadata_csum, so that the changed superblock needs no new checksum.
        string img = Path.Combine(_images.Dir, "future.img");
        Shell.Run($"truncate -s 16M '{img}' && mkfs.ext4 -q -F -O ^metadata_csum -L future '{img}'");
        // s_feature_incompat (superblock offset 0x60, little-endian): set bit 31, unknown to every kernel.
        Shell.Run($"printf '\\x80' | dd of='{img}' bs=1 seek={1024 + 0x60 + 3} conv=notrunc status=none");
        _t.Engine.AttachImage(img, "future");
        Assert.Equal("ext4", _t.Engine.GetBucket("/future/raw").FileSystem);
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Mount("/future/raw"));
        Assert.StartsWith("mounting '/future/raw' failed: ext4 did not mount (tried ext4: Invalid argument; kernel: EXT4-fs (loop", ex.Message);
        Assert.Contains("feature", ex.Message);
    }
}
