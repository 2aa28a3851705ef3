using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>A disk with no partition table and ext4 straight on it: the "raw" bucket.</summary>
public sealed class RawDiskTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    private string RawImage()
    {
        var tree = _images.Tree("raw", ("etc/hostname", "raw-host\n"), ("data/a.txt", "alpha"));
        return _images.FileSystem("ext4", 32, "rawfs", tree);
    }

    [Fact]
    public void RawExt4IsOneRawBucketAndItsFilesResolve()
    {
        var img = RawImage();
        var disk = _t.Engine.AttachImage(img, "raw.img");
        Assert.Equal("raw.img", disk.Name);
        Assert.Null(disk.PartitionTable);
        Assert.Equal(["raw"], disk.BucketTypes);

        var bucket = Assert.Single(_t.Engine.GetBuckets("raw.img"));
        Assert.Equal("/raw.img/raw", bucket.Path);
        Assert.Equal("ext4", bucket.FileSystem);
        Assert.Equal("rawfs", bucket.Label);
        Assert.False(bucket.IsMounted);

        var resolved = _t.Engine.Resolve("/raw.img/raw/etc/hostname");
        Assert.Equal(ResolvedKind.Item, resolved.Kind);
        Assert.Equal("raw-host\n", File.ReadAllText(resolved.LocalPath!));
        Assert.True(_t.Engine.GetBucket("/raw.img/raw").IsMounted);
    }

    [Fact]
    public void AttachedImageIsReadOnlyAndDetachReleasesIt()
    {
        var img = RawImage();
        var disk = _t.Engine.AttachImage(img);
        Assert.Equal(Path.GetFileName(img), disk.Name);
        Assert.Equal("1", File.ReadAllText($"/sys/block/{disk.KernelName}/ro").Trim());
        _t.Engine.Resolve($"/{disk.Name}/raw/etc");
        _t.Engine.DetachImage(disk.Name);
        Assert.Empty(_t.Engine.GetDisks());
        Assert.False(File.Exists($"/sys/block/{disk.KernelName}/loop/backing_file"));
    }
}
