using System.Text.Json;
using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>Partitioned images made by sfdisk and mkfs, attached on real loop devices and mounted for real.</summary>
public sealed class GptSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }

    public GptSample()
    {
        var _images = Images;
        var ext4 = _images.FileSystem("ext4", 24, "rootfs", _images.Tree("root",
            ("etc/hostname", "gpt-host\n"), ("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")));
        var xfs = _images.FileSystem("xfs", 300, "data", _images.Tree("xfsdata", ("reports/summary.txt", "xfs summary")));
        var btrfs = _images.FileSystem("btrfs", 120, "store", _images.Tree("btrfsdata", ("b/file.txt", "btrfs file")));
        Image = _images.Disk("gpt.img", 480,
            "label: gpt\n" +
            "size=24MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"root part\"\n" +
            "size=300MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data\n" +
            "size=120MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=store\n",
            (1, ext4), (2, xfs), (3, btrfs));
    }

    public void Dispose() => Images.Dispose();
}

public sealed class PartitionedDiskTests(GptSample sample) : IDisposable, IClassFixture<GptSample>
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    /// <summary>The shared GPT image, or a private copy for a test that damages it.</summary>
    private string GptImage(bool copy = false)
    {
        if (!copy) return sample.Image;
        string img = Path.Combine(_images.Dir, "gpt-copy.img");
        Shell.Run($"cp --sparse=always '{sample.Image}' '{img}'");
        return img;
    }

    private static JsonElement[] SfdiskPartitions(string img) =>
        JsonDocument.Parse(Shell.Run($"sfdisk -J '{img}'")).RootElement
            .GetProperty("partitiontable").GetProperty("partitions").EnumerateArray().ToArray();

    [Fact]
    public void GptPartitionsMatchSfdiskAndBlkid()
    {
        var img = GptImage();
        var disk = _t.Engine.AttachImage(img, "drive-scsi0");
        Assert.Equal("gpt", disk.PartitionTable);
        Assert.Equal(["part"], disk.BucketTypes);

        var buckets = _t.Engine.GetBuckets("drive-scsi0");
        var expected = SfdiskPartitions(img);
        Assert.Equal(expected.Length, buckets.Count);
        foreach (var (p, b) in expected.Zip(buckets))
        {
            Assert.EndsWith(b.Component, p.GetProperty("node").GetString());
            Assert.Equal(p.GetProperty("start").GetInt64() * 512, b.Start);
            Assert.Equal(p.GetProperty("size").GetInt64() * 512, b.Size);
            Assert.Equal(p.GetProperty("type").GetString()!.ToLowerInvariant(), b.PartitionType);
            Assert.Equal(p.GetProperty("uuid").GetString()!.ToLowerInvariant(), b.PartitionUuid);
            Assert.Equal(p.GetProperty("name").GetString(), b.PartitionName);
            Assert.Equal("Linux filesystem", b.PartitionTypeName);

            // The probe agrees with blkid -p on the partition's own block device.
            var blkid = Shell.Blkid(b.Device!);
            Assert.Equal(blkid["TYPE"], b.FileSystem);
            Assert.Equal(blkid["LABEL"], b.Label);
            Assert.Equal(blkid["UUID"], b.Uuid);
        }
        Assert.Equal(["ext4", "xfs", "btrfs"], buckets.Select(b => b.FileSystem));
    }

    [Fact]
    public void FilesResolveOnEveryFilesystem()
    {
        var img = GptImage();
        string before = Shell.Sha256(img);
        _t.Engine.AttachImage(img, "drive-scsi0");

        Assert.Equal("gpt-host\n", File.ReadAllText(_t.Engine.Resolve("/drive-scsi0.img.fidx/part/1/etc/hostname").LocalPath!));
        Assert.Equal("xfs summary", File.ReadAllText(_t.Engine.Resolve("/drive-scsi0/part/2/reports/summary.txt").LocalPath!));
        Assert.Equal("btrfs file", File.ReadAllText(_t.Engine.Resolve("/drive-scsi0/part/3/b/file.txt").LocalPath!));
        Assert.All(_t.Engine.GetBuckets(), b => Assert.True(b.IsMounted));

        _t.Engine.DetachImage("drive-scsi0");
        Assert.Equal(before, Shell.Sha256(img));
    }

    [Fact]
    public void PartialPathsListTypesAndComponents()
    {
        _t.Engine.AttachImage(GptImage(), "drive-scsi0");
        var root = _t.Engine.Resolve("/");
        Assert.Equal(ResolvedKind.Root, root.Kind);
        Assert.Contains(root.Children, c => c.Name == "drive-scsi0" && c.Kind == ResolvedKind.Disk);

        var types = _t.Engine.Resolve("/drive-scsi0");
        Assert.Equal(["part"], types.Children.Select(c => c.Name));
        Assert.Equal("/drive-scsi0/part", types.Children[0].Path);

        var comps = _t.Engine.Resolve("/drive-scsi0/part");
        Assert.Equal(ResolvedKind.BucketType, comps.Kind);
        Assert.Equal(["1", "2", "3"], comps.Children.Select(c => c.Name));
        Assert.Equal(["ext4", "xfs", "btrfs"], comps.Children.Select(c => c.Detail));
        Assert.All(_t.Engine.GetBuckets(), b => Assert.False(b.IsMounted)); // listing never mounts

        var bucket = _t.Engine.Resolve("/drive-scsi0/part/1");
        Assert.Equal(ResolvedKind.Bucket, bucket.Kind);
        Assert.True(File.Exists(Path.Combine(bucket.LocalPath!, "etc/hostname")));
    }

    [Theory]
    [InlineData("", RestoreErrorCode.InvalidPath)]
    [InlineData("drive-scsi0/part/1", RestoreErrorCode.InvalidPath)]
    [InlineData("/nope", RestoreErrorCode.DiskNotFound)]
    [InlineData("/drive-scsi0/lvm", RestoreErrorCode.BucketTypeNotFound)]
    [InlineData("/drive-scsi0/raw", RestoreErrorCode.BucketTypeNotFound)]
    [InlineData("/drive-scsi0/part/x", RestoreErrorCode.ComponentNotFound)]
    [InlineData("/drive-scsi0/part/9/etc", RestoreErrorCode.ComponentNotFound)]
    [InlineData("/drive-scsi0/part/1/etc/nothing", RestoreErrorCode.ItemNotFound)]
    public void BadPathsGiveClearErrors(string path, RestoreErrorCode code)
    {
        _t.Engine.AttachImage(GptImage(), "drive-scsi0");
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Resolve(path));
        Assert.Equal(code, ex.Code);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void MbrLogicalPartitionsAreNumberedFromFive()
    {
        var ext4a = _images.FileSystem("ext4", 8, "prim", _images.Tree("p", ("which", "primary")));
        var ext4b = _images.FileSystem("ext4", 8, "logi", _images.Tree("l", ("which", "logical")));
        var img = _images.Disk("mbr.img", 64,
            "label: dos\n" +
            "start=2048, size=10MiB, type=83\n" +
            "start=22528, size=40MiB, type=5\n" +
            "start=24576, size=10MiB, type=83\n" +     // logical: inside the extended one
            "start=47104, size=10MiB, type=82\n",
            (1, ext4a), (5, ext4b));
        var disk = _t.Engine.AttachImage(img, "mbr");
        Assert.Equal("dos", disk.PartitionTable);

        var buckets = _t.Engine.GetBuckets("mbr");
        var expected = SfdiskPartitions(img);
        Assert.Equal(expected.Select(p => p.GetProperty("node").GetString()![^1..]), buckets.Select(b => b.Component));
        Assert.Equal(["1", "2", "5", "6"], buckets.Select(b => b.Component));
        Assert.Equal(["0x83", "0x05", "0x83", "0x82"], buckets.Select(b => b.PartitionType));
        Assert.Equal("logi", buckets.Single(b => b.Component == "5").Label);
        var extended = buckets.Single(b => b.Component == "2");
        Assert.True(extended.IsContainer);
        // Asked for as a bucket, it says what it is (the kernel's own answer was "Cannot allocate memory").
        var container = Assert.Throws<RestoreException>(() => _t.Engine.GetItem("/mbr/part/2/x"));
        Assert.Equal(RestoreErrorCode.MountFailed, container.Code);
        Assert.Contains("extended partition: it holds the logical partitions (5 and up), no filesystem", container.Message);

        Assert.Equal("logical", File.ReadAllText(_t.Engine.Resolve("/mbr/part/5/which").LocalPath!));
        Assert.Equal("primary", File.ReadAllText(_t.Engine.Resolve("/mbr/part/1/which").LocalPath!));
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Mount("/mbr/part/6"));
        Assert.Equal(RestoreErrorCode.MountFailed, ex.Code);
        Assert.Contains("mbr/part/6", ex.Message);
    }

    [Fact]
    public void CorruptPrimaryGptHeaderFallsBackToTheBackup()
    {
        var img = GptImage(copy: true);
        // Damage the primary header's signature (LBA 1); the backup at the end stays intact.
        Shell.Run($"printf 'XXXX' | dd of='{img}' bs=1 seek=512 conv=notrunc status=none");
        _t.Engine.AttachImage(img, "damaged");
        var buckets = _t.Engine.GetBuckets("damaged");
        Assert.Equal(["1", "2", "3"], buckets.Select(b => b.Component));
        Assert.Contains(_t.Warnings, w => w.Contains("damaged"));
        Assert.Equal("gpt-host\n", File.ReadAllText(_t.Engine.Resolve("/damaged/part/1/etc/hostname").LocalPath!));
    }

    [Fact]
    public void AnEmptyDiskHasNoBuckets()
    {
        string img = Path.Combine(_images.Dir, "empty.img");
        Shell.Run($"truncate -s 16M '{img}'");
        var disk = _t.Engine.AttachImage(img, "empty");
        Assert.Null(disk.PartitionTable);
        Assert.Empty(disk.BucketTypes);
        Assert.Empty(_t.Engine.GetBuckets("empty"));
        Assert.Empty(_t.Engine.Resolve("/empty").Children);
        Assert.Equal(RestoreErrorCode.BucketTypeNotFound, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/empty/part")).Code);
    }

    [Fact]
    public void ACorruptSuperblockFailsThatBucketAlone()
    {
        var img = GptImage(copy: true);
        // Zero partition 1's ext4 superblock (1 KiB into the partition); partition 2 must still work.
        long start = SfdiskPartitions(img)[0].GetProperty("start").GetInt64() * 512;
        Shell.Run($"dd if=/dev/zero of='{img}' bs=1024 count=1 seek={(start + 1024) / 1024} conv=notrunc status=none");
        _t.Engine.AttachImage(img, "broken");
        var buckets = _t.Engine.GetBuckets("broken");
        Assert.Null(buckets[0].FileSystem);
        Assert.NotNull(buckets[0].Error);
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/broken/part/1/etc"));
        Assert.Equal(RestoreErrorCode.MountFailed, ex.Code);
        Assert.Contains("no supported filesystem", ex.Message);
        Assert.Equal("xfs summary", File.ReadAllText(_t.Engine.Resolve("/broken/part/2/reports/summary.txt").LocalPath!));
    }
}
