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

    [Fact]
    public void ANestedDefaultHasItsFullPathAndTheTopLevelIsSlash()
    {
        string img = Make("btrfs subvolume set-default \"$MNT/vols/data\"");
        string plain = Make("true");
        _t.Engine.AttachImage(img, "nested");
        _t.Engine.AttachImage(plain, "plain");
        Assert.Null(_t.Engine.GetBucket("/nested/raw").DefaultSubvolume); // known once mounted
        Assert.Equal("/vols/data", _t.Engine.Mount("/nested/raw").DefaultSubvolume);
        Assert.Equal("/", _t.Engine.Mount("/plain/raw").DefaultSubvolume);
        Assert.Equal("user file", File.ReadAllText(_t.Engine.Resolve("/nested/raw/@home/user/notes.txt").LocalPath!).Trim());
    }
}
