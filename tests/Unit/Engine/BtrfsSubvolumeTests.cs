using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// btrfs is mounted at its top level (subvolid=5), so every subvolume, the default one and those outside it,
/// is a folder; the bucket names the default subvolume. Images made by mkfs.btrfs, with subvolumes made by
/// btrfs subvolume create / set-default on a loop mount of this host (btrfs mounts here).
/// </summary>
public sealed class BtrfsSubvolumeTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    private string Make(string setDefault)
    {
        var img = _images.FileSystem("btrfs", 128, "subvols", _images.Tree("top", ("top.txt", "at the top level")));
        string mnt = Path.Combine(_images.Dir, "mk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mnt);
        Shell.Run($"""
            set -e
            MNT='{mnt}'
            mount -o loop '{img}' '{mnt}'
            trap "umount '{mnt}'" EXIT
            btrfs -q subvolume create '{mnt}/@'
            btrfs -q subvolume create '{mnt}/@home'
            mkdir -p '{mnt}/@/etc' '{mnt}/@home/user' '{mnt}/vols'
            echo root-host > '{mnt}/@/etc/hostname'
            echo 'user file' > '{mnt}/@home/user/notes.txt'
            btrfs -q subvolume create '{mnt}/@/var-lib'
            echo nested > '{mnt}/@/var-lib/state'
            btrfs -q subvolume create '{mnt}/vols/data'
            mkdir -p '{mnt}/@/srv/www'
            btrfs -q subvolume create '{mnt}/@/srv/www/site'
            echo site > '{mnt}/@/srv/www/site/index.html'
            echo data > '{mnt}/vols/data/d.txt'
            btrfs -q subvolume snapshot -r '{mnt}/@' '{mnt}/@snap'
            echo changed > '{mnt}/@/etc/hostname'
            {setDefault}
            """);
        return img;
    }

    [Fact]
    public void EverySubvolumeIsAFolderAndTheDefaultIsNamed()
    {
        string img = Make("btrfs subvolume set-default \"$MNT/@\"");
        string before = Shell.Sha256(img);
        _t.Engine.AttachImage(img, "bt");
        var bucket = _t.Engine.Mount("/bt/raw");
        Assert.Equal("btrfs", bucket.FileSystem);
        Assert.Equal("/@", bucket.DefaultSubvolume);
        Assert.Equal("/@", _t.Engine.GetBucket("/bt/raw").DefaultSubvolume);

        string Read(string p) => File.ReadAllText(_t.Engine.Resolve("/bt/raw/" + p).LocalPath!).Trim();
        Assert.Equal("at the top level", Read("top.txt"));
        Assert.Equal("changed", Read("@/etc/hostname"));
        Assert.Equal("root-host", Read("@snap/etc/hostname"));
        Assert.Equal("user file", Read("@home/user/notes.txt"));
        Assert.Equal("nested", Read("@/var-lib/state"));
        Assert.Equal("data", Read("vols/data/d.txt"));
        var top = Directory.EnumerateFileSystemEntries(bucket.MountPoint!).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["@", "@home", "@snap", "top.txt", "vols"], top);

        _t.Engine.Unmount("/bt/raw");
        _t.Engine.DetachImage("bt");
        Assert.Equal(before, Shell.Sha256(img));
    }

    /// <summary>The trees on the disk give the same answer as the mounted filesystem, before anything is mounted.</summary>
    [Theory]
    [InlineData("vols/data", "/vols/data")]           // in a folder of the top level
    [InlineData("@/srv/www/site", "/@/srv/www/site")] // in folders of another subvolume
    [InlineData("@snap", "/@snap")]                    // a read-only snapshot
    [InlineData(null, "/")]                            // never set: the top level
    public void TheDefaultIsReadOffTheDiskAndAgreesWithTheKernel(string? setDefault, string expected)
    {
        string img = Make(setDefault is null ? "true" : $"btrfs subvolume set-default \"$MNT/{setDefault}\"");
        _t.Engine.AttachImage(img, "d");
        Assert.Equal(expected, _t.Engine.GetBucket("/d/raw").DefaultSubvolume);
        Assert.Equal(expected, _t.Engine.Mount("/d/raw").DefaultSubvolume);
        Assert.Equal("site", File.ReadAllText(_t.Engine.Resolve("/d/raw/@/srv/www/site/index.html").LocalPath!).Trim());
    }

    /// <summary>With 4 KiB nodes and 80 subvolumes the root tree has several levels: the walk goes through inner nodes.</summary>
    [Fact]
    public void ADeepRootTreeIsWalked()
    {
        string img = Path.Combine(_images.Dir, "deep.img");
        string mnt = Path.Combine(_images.Dir, "deep-mnt");
        Directory.CreateDirectory(mnt);
        Shell.Run($"""
            set -e
            truncate -s 256M '{img}'
            mkfs.btrfs -q -f -n 4096 -s 4096 '{img}'
            mount -o loop '{img}' '{mnt}'
            trap "umount '{mnt}'" EXIT
            mkdir '{mnt}/many'
            for i in $(seq 1 80); do btrfs -q subvolume create "{mnt}/many/sv$i"; done
            btrfs subvolume set-default '{mnt}/many/sv77'
            """);
        Assert.NotEqual("0", Shell.Run($"btrfs inspect-internal dump-tree -t root '{img}' | grep -c '^node' || true").Trim());
        _t.Engine.AttachImage(img, "deep");
        Assert.Equal("/many/sv77", _t.Engine.GetBucket("/deep/raw").DefaultSubvolume);
        Assert.Equal("/many/sv77", _t.Engine.Mount("/deep/raw").DefaultSubvolume);
    }

    /// <summary>Trees that do not add up lose only the default subvolume's name, never the bucket.</summary>
    [Theory]
    [InlineData(0x50, "deadbeefdeadbeef")]   // root tree pointer into nowhere
    [InlineData(0xA0, "ffff0000")]           // sys_chunk_array_size past the superblock
    [InlineData(0x32B + 17 + 44, "0000")]    // the first system chunk with no stripes
    public void DamagedTreesLeaveTheDefaultUnknown(int offset, string hex)
    {
        string img = Make("btrfs subvolume set-default \"$MNT/@\"");
        string bytes = string.Concat(Enumerable.Range(0, hex.Length / 2).Select(i => "\\x" + hex.Substring(i * 2, 2)));
        Shell.Run($"printf '{bytes}' | dd of='{img}' bs=1 seek={0x10000 + offset} conv=notrunc status=none");
        _t.Engine.AttachImage(img, "bad");
        var b = _t.Engine.GetBucket("/bad/raw");
        Assert.Equal("btrfs", b.FileSystem);
        Assert.Null(b.DefaultSubvolume);
    }

    /// <summary>
    /// A copy taken while mounted, after an fsync but before the commit (a backup of a running VM): its log tree
    /// holds the fsync'd file. A plain read-only mount of a read-only device refuses to replay it and fails; with
    /// rescue=nologreplay it mounts, without that file, and the bucket warns.
    /// </summary>
    [Fact]
    public void ACopyWithALogTreeMountsWithoutReplayAndWarns()
    {
        string img = Path.Combine(_images.Dir, "live.img"), copy = Path.Combine(_images.Dir, "copy.img");
        string mnt = Path.Combine(_images.Dir, "live-mnt");
        Directory.CreateDirectory(mnt);
        Shell.Run($"""
            set -e
            truncate -s 128M '{img}'
            mkfs.btrfs -q -f '{img}'
            mount -o loop,commit=300 '{img}' '{mnt}'
            trap "umount '{mnt}'" EXIT
            echo committed > '{mnt}/committed.txt'
            sync
            echo logged > '{mnt}/logged.txt'
            xfs_io -c fsync '{mnt}/logged.txt'
            cp --sparse=always '{img}' '{copy}'
            """);
        Assert.DoesNotContain("log_root\t\t0\n", Shell.Run($"btrfs inspect-internal dump-super '{copy}'"));
        string before = Shell.Sha256(copy);
        _t.Engine.AttachImage(copy, "live");
        Assert.False(_t.Engine.Mount("/live/raw").JournalReplayed); // a host loop is read-only: never replayed
        Assert.Contains(_t.Engine.GetBucket("/live/raw").Warnings, w => w.StartsWith("its btrfs journal holds changes", StringComparison.Ordinal));
        Assert.Equal("committed", File.ReadAllText(_t.Engine.Resolve("/live/raw/committed.txt").LocalPath!).Trim());
        Assert.False(File.Exists(Path.Combine(_t.Engine.GetBucket("/live/raw").MountPoint!, "logged.txt")));
        Assert.False(_t.Engine.GetBucket("/live/raw").JournalReplayed);
        _t.Engine.Unmount("/live/raw");
        _t.Engine.DetachImage("live");
        Assert.Equal(before, Shell.Sha256(copy));
    }
}
