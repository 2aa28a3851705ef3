using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// A dirty XFS log (a crash-consistent backup) is told from a clean one on the host, where the
/// read-only loop cannot replay it: the bucket warns, and the image is left as it was.
/// </summary>
public sealed class XfsDirtyLogTests : IDisposable
{
    private readonly TestImages _images = new();

    public void Dispose() => _images.Dispose();

    private string Xfs(string name, string afterMount)
    {
        string img = Path.Combine(_images.Dir, name);
        string mnt = Directory.CreateDirectory(Path.Combine(_images.Dir, name + "-mnt")).FullName;
        Shell.Run($"truncate -s 300M '{img}' && mkfs.xfs -q -f '{img}' && mount -o loop '{img}' '{mnt}' && echo before > '{mnt}/before.txt' && umount '{mnt}'");
        Shell.Run($"mount -o loop '{img}' '{mnt}' && echo after > '{mnt}/after.txt' && {afterMount.Replace("MNT", mnt)}; umount '{mnt}'");
        return img;
    }

    [Fact]
    public void ADirtyLogIsWarnedOfAndACleanOneIsNot()
    {
        string clean = Xfs("clean.img", "sync");
        // fsync puts after.txt in the log; the shutdown stops the filesystem before it is written in place.
        string dirty = Xfs("dirty.img", "xfs_io -c fsync 'MNT/after.txt' && xfs_io -x -c shutdown 'MNT'");
        string sha = Shell.Sha256(dirty);

        using var t = new TestEngine();
        t.Engine.AttachImage(clean, "clean");
        t.Engine.AttachImage(dirty, "dirty");
        Assert.Empty(t.Engine.GetBucket("/clean/raw").Warnings);
        Assert.Contains(t.Engine.GetBucket("/dirty/raw").Warnings, w => w.StartsWith("its xfs journal holds changes not yet written in place", StringComparison.Ordinal));
        // Read here without replay (norecovery): the file only in the log is not there, and the image is untouched.
        Assert.DoesNotContain(t.Engine.List("/dirty/raw"), i => i.Name == "after.txt");
        Assert.Contains(t.Engine.List("/clean/raw"), i => i.Name == "after.txt");
        t.Engine.DetachImage("dirty");
        Assert.Equal(sha, Shell.Sha256(dirty));
    }
}
