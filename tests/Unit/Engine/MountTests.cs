using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

public sealed class MountTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    /// <summary>
    /// ext4 left with a journal that needs recovery (shut down mid-write): a read-only mount with
    /// noload reads it and never replays the journal into the image.
    /// </summary>
    [Fact]
    public void DirtyJournalExt4MountsWithoutChangingTheImage()
    {
        var img = _images.FileSystem("ext4", 32, "dirty", _images.Tree("d", ("before.txt", "before")));
        string mnt = Path.Combine(_images.Dir, "dirty-mnt");
        Directory.CreateDirectory(mnt);
        // Write, then shut the filesystem down without a log flush (EXT4_IOC_SHUTDOWN via xfs_io).
        Shell.Run($"mount -o loop '{img}' '{mnt}' && echo after > '{mnt}/after.txt' && sync -f '{mnt}/before.txt' " +
                  $"&& xfs_io -x -c 'shutdown' '{mnt}'; umount '{mnt}'");
        Assert.Contains("needs_recovery", Shell.Run($"dumpe2fs -h '{img}' 2>/dev/null | grep -i features"));
        string before = Shell.Sha256(img);

        _t.Engine.AttachImage(img, "dirty");
        // The bucket says its journal is not replayed here, before and when it is mounted.
        Assert.Contains(_t.Engine.GetBucket("/dirty/raw").Warnings, w => w.Contains("journal holds changes not yet written in place"));
        Assert.Equal("before", File.ReadAllText(_t.Engine.Resolve("/dirty/raw/before.txt").LocalPath!));
        Assert.Contains(_t.Warnings, w => w.StartsWith("'/dirty/raw': its ext4 journal", StringComparison.Ordinal));
        _t.Engine.Unmount("/dirty/raw");
        _t.Engine.DetachImage("dirty");

        Assert.Equal(before, Shell.Sha256(img));
        Assert.Contains("needs_recovery", Shell.Run($"dumpe2fs -h '{img}' 2>/dev/null | grep -i features"));
    }

    [Fact]
    public void ManyThreadsResolvingAtOnceMountOnce()
    {
        var img = _images.FileSystem("ext4", 16, "busy", _images.Tree("b", ("f.txt", "x")));
        _t.Engine.AttachImage(img, "busy");
        var results = new string[16];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            i => results[i] = _t.Engine.Resolve("/busy/raw/f.txt").LocalPath!);
        Assert.Single(results.Distinct());
        string mountPoint = _t.Engine.GetBucket("/busy/raw").MountPoint!;
        Assert.Equal(1, File.ReadLines("/proc/self/mountinfo").Count(l => l.Split(' ')[4] == mountPoint));
    }

    [Fact]
    public void MountIsReadOnlyNoexecNosuidNodev()
    {
        var img = _images.FileSystem("ext4", 16, "ro", _images.Tree("r", ("f.txt", "x")));
        _t.Engine.AttachImage(img, "ro");
        var bucket = _t.Engine.Mount("/ro/raw");
        Assert.True(bucket.IsMounted);
        string line = File.ReadLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == bucket.MountPoint);
        var opts = line.Split(' ')[5].Split(',');
        Assert.Contains("ro", opts);
        Assert.Contains("nosuid", opts);
        Assert.Contains("nodev", opts);
        Assert.Contains("noexec", opts);
        Assert.Throws<IOException>(() => File.WriteAllText(Path.Combine(bucket.MountPoint!, "new.txt"), "x"));

        var again = _t.Engine.Mount("/ro/raw");
        Assert.Equal(bucket.MountPoint, again.MountPoint);
        var un = _t.Engine.Unmount("/ro/raw");
        Assert.False(un.IsMounted);
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == bucket.MountPoint);
        Assert.False(_t.Engine.GetBucket("/ro/raw").IsMounted);
    }

    [Fact]
    public void DisposeUnmountsAndDetachesEverything()
    {
        var img = _images.FileSystem("ext4", 16, "gone", _images.Tree("g", ("f.txt", "x")));
        string mountPoint, kernel;
        using (var t = new TestEngine())
        {
            kernel = t.Engine.AttachImage(img, "gone").KernelName;
            mountPoint = t.Engine.Mount("/gone/raw").MountPoint!;
        }
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == mountPoint);
        Assert.NotEqual(Path.GetFullPath(img), Shell.Run($"cat /sys/block/{kernel}/loop/backing_file 2>/dev/null || true").Trim());
    }
}

/// <summary>What an engine leaves in its state folder: nothing once it unmounts, detaches or ends.</summary>
public sealed class StateFolderTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    private string Root => Path.Combine(_t.StateDir, "mnt");

    private string GptImage()
    {
        var p1 = _images.FileSystem("ext4", 16, "one", _images.Tree("p1", ("one.txt", "1")));
        return _images.Disk("gpt.img", 24, "label: gpt\nsize=16MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n", (1, p1));
    }

    [Fact]
    public void UnmountRemovesTheFoldersItMade()
    {
        _t.Engine.AttachImage(GptImage(), "g");
        string mountPoint = _t.Engine.Mount("/g/part/1").MountPoint!;
        Assert.Equal(Path.Combine(Root, "g/part/1"), mountPoint);
        _t.Engine.Unmount("/g/part/1");
        Assert.False(Directory.Exists(Path.Combine(Root, "g")));

        // Mounted again and taken away with the image: the same.
        _t.Engine.Mount("/g/part/1");
        _t.Engine.DetachImage("g");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
    }

    [Fact]
    public void AFolderAnotherEngineStillUsesStays()
    {
        var a = _images.FileSystem("ext4", 16, "a", _images.Tree("ta", ("who", "A")));
        var b = _images.FileSystem("ext4", 16, "b", _images.Tree("tb", ("who", "B")));
        using var other = new RestoreEngine(new EngineOptions { MountRoot = Root, NodeDir = Path.Combine(_t.StateDir, "dev") });
        _t.Engine.AttachImage(a, "disk");
        other.AttachImage(b, "disk");
        string mine = _t.Engine.Mount("/disk/raw").MountPoint!, theirs = other.Mount("/disk/raw").MountPoint!;
        Assert.Equal(mine + "~2", theirs);
        _t.Engine.Unmount("/disk/raw");
        Assert.False(Directory.Exists(mine));
        Assert.Equal("B", File.ReadAllText(Path.Combine(theirs, "who")));
        other.Unmount("/disk/raw");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
    }

    [Fact]
    public void LoopDevicesAreBoundWithAutoclearAndHeldOpen()
    {
        string img = GptImage();
        string kernel = _t.Engine.AttachImage(img, "g").KernelName;
        Assert.Equal("1", File.ReadAllText($"/sys/block/{kernel}/loop/autoclear").Trim());
        Assert.Equal("1", File.ReadAllText($"/sys/block/{kernel}/ro").Trim());
        Assert.Equal(img, File.ReadAllText($"/sys/block/{kernel}/loop/backing_file").Trim());
        _t.Engine.Mount("/g/part/1");
        _t.Engine.DetachImage("g");
        // Autoclear unbinds at the last close: another engine of a test running beside this one may
        // hold the device open for a moment while it looks at every loop device's backing file.
        Assert.True(SpinWait.SpinUntil(() => !BoundTo(kernel, img), TimeSpan.FromSeconds(10)), $"{kernel} still bound to {img}");
        Assert.Empty(Directory.EnumerateDirectories($"/sys/block/{kernel}", kernel + "p*"));
    }

    [Fact]
    public void ALiveEngineIsNotCleanedByAnotherOnTheSameStateFolder()
    {
        string img = GptImage();
        string kernel = _t.Engine.AttachImage(img, "g").KernelName;
        string mountPoint = _t.Engine.Mount("/g/part/1").MountPoint!;
        var warnings = new List<string>();
        using (new RestoreEngine(new EngineOptions { MountRoot = Root, NodeDir = Path.Combine(_t.StateDir, "dev"), Warning = warnings.Add }))
        {
            Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == mountPoint);
            Assert.True(BoundTo(kernel, img));
        }
        Assert.Empty(warnings);
        Assert.Equal("1", File.ReadAllText(Path.Combine(mountPoint, "one.txt")));
        // Two records while both lived; the second engine's went with it.
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_t.StateDir, "owners")));
    }

    [Fact]
    public void DisposeLeavesNoFoldersAndNoRecord()
    {
        using (var t = new TestEngine())
        {
            t.Engine.AttachImage(GptImage(), "g");
            t.Engine.Mount("/g/part/1");
            Assert.Single(Directory.EnumerateFiles(Path.Combine(t.StateDir, "owners")));
            t.Engine.Dispose();
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(t.StateDir, "mnt")));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(t.StateDir, "owners")));
        }
    }

    [Fact]
    public void ARecordCountsWhatWasNotUndoneAndIgnoresATornLastLine()
    {
        var (loops, mounts) = RestoreTools.Engine.State.OwnerRecord.Parse(
            "loop\t%2Fdev%2Floop1\trestoretools:a\nloop\t/dev/loop2\trestoretools:b\n-loop\trestoretools:a\n" +
            "mount\t%2Fs%2Fmnt%2Fd%2Fraw%2F_\t7:2\t%2Fs%2Fmnt%2Fd\nmount\t/s/mnt/e/raw/_\t7:3\t\n-mount\t/s/mnt/e/raw/_\nmount\t/s/mnt/f/raw/_\t7:4\t/s/m");
        Assert.Equal(("/dev/loop2", "restoretools:b"), (Assert.Single(loops).Device, loops[0].Marker));
        var m = Assert.Single(mounts);
        Assert.Equal(("/s/mnt/d/raw/_", "7:2", "/s/mnt/d"), (m.MountPoint, m.Device, m.Top));
    }

    [Fact]
    public void AnOrphanRecordTouchesNothingThatIsNotProvablyItsOwn()
    {
        // A record whose process is gone (no lock on it) that names a loop device bound by someone
        // else, a mount outside MountRoot, and a mount under it from another device.
        var img = _images.FileSystem("ext4", 16, "x", _images.Tree("x", ("f", "x")));
        string loop = Shell.Run($"losetup -f --show -r '{img}'").Trim();
        string kernel = Path.GetFileName(loop);
        string dev = File.ReadAllText($"/sys/block/{kernel}/dev").Trim();
        string outside = Path.Combine(_images.Dir, "outside"), inside = Path.Combine(Root, "x/raw/_");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(inside);
        try
        {
            Shell.Run($"mount -o ro '{loop}' '{outside}' && mount -o ro '{loop}' '{inside}'");
            string owners = Path.Combine(_t.StateDir, "owners");
            Directory.CreateDirectory(owners);
            File.WriteAllText(Path.Combine(owners, "1-orphan.rec"),
                $"loop\t{loop}\trestoretools:someone-else\nmount\t{outside}\t{dev}\t{outside}\nmount\t{inside}\t7:99999\t{inside}\n");
            var warnings = new List<string>();
            using (new RestoreEngine(new EngineOptions { MountRoot = Root, NodeDir = Path.Combine(_t.StateDir, "dev"), Warning = warnings.Add })) { }
            Assert.True(BoundTo(kernel, img));
            Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == outside);
            Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == inside);
            Assert.False(File.Exists(Path.Combine(owners, "1-orphan.rec")));   // read, found nothing of its own, gone
            Assert.Empty(warnings);
        }
        finally { Shell.Run($"umount '{inside}' || true; umount '{outside}' || true; losetup -d '{loop}'"); }
    }

    internal static bool BoundTo(string kernel, string image)
    {
        try { return File.ReadAllText($"/sys/block/{kernel}/loop/backing_file").Trim() == image; }
        catch (IOException) { return false; }
    }
}

/// <summary>Two engines (two pwsh sessions, say) with disks of the same name do not touch each other's mounts.</summary>
public sealed class SharedMountRootTests : IDisposable
{
    private readonly TestImages _images = new();

    public void Dispose() => _images.Dispose();

    [Fact]
    public void SameDiskNameInTwoEnginesGetsTwoMountPoints()
    {
        string root = Path.Combine(_images.Dir, "mnt");
        RestoreEngine New() => new(new EngineOptions { MountRoot = root, NodeDir = Path.Combine(_images.Dir, "dev") });
        var a = _images.FileSystem("ext4", 16, "a", _images.Tree("ta", ("who", "A")));
        var b = _images.FileSystem("ext4", 16, "b", _images.Tree("tb", ("who", "B")));
        using var e1 = New();
        using var e2 = New();
        e1.AttachImage(a, "disk");
        e2.AttachImage(b, "disk");
        Assert.Equal("A", File.ReadAllText(e1.Resolve("/disk/raw/who").LocalPath!));
        Assert.Equal("B", File.ReadAllText(e2.Resolve("/disk/raw/who").LocalPath!));
        Assert.NotEqual(e1.GetBucket("/disk/raw").MountPoint, e2.GetBucket("/disk/raw").MountPoint);
        e2.Unmount("/disk/raw");
        Assert.Equal("A", File.ReadAllText(e1.Resolve("/disk/raw/who").LocalPath!));
    }
}
