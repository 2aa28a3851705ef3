using System.Text;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// NTFS on this host, whose kernel has no NTFS driver: the engine serves it through ntfs-3g (FUSE)
/// read-only. The image is made by mkntfs and filled through ntfs-3g (tests/Ntfs/make-ntfs-image.sh):
/// long and Unicode names, a compressed folder, a sparse file, alternate data streams, a hard link,
/// junctions and symlinks as Windows writes them.
/// </summary>
public sealed class NtfsFuseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-ntfs-").FullName;
    private readonly string _image;
    private readonly Dictionary<string, string> _expected = new(StringComparer.Ordinal);

    public NtfsFuseTests()
    {
        Shell.Run($"'{Path.Combine(AgentBinaries.RepoRoot, "tests/Ntfs/make-ntfs-image.sh")}' '{_dir}' >/dev/null");
        _image = Path.Combine(_dir, "ntfs.img");
        foreach (var line in File.ReadAllLines(Path.Combine(_dir, "expected.sha256"), Encoding.UTF8))
            _expected[line[66..]] = line[..64];
    }

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static string Sha256(Stream s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(s));

    private static string Ntfs3gServing(string stateDir) => Shell.Run($"pgrep -f '[n]tfs-3g -o .* {stateDir}/mnt/' || true").Trim();

    [Fact]
    public void EveryFileReadsByteExactThroughNtfs3g()
    {
        string sha = Shell.Sha256(_image);
        using (var t = new TestEngine())
        {
            t.Engine.AttachImage(_image, "win");
            var bucket = t.Engine.GetBucket("/win/part/1");
            Assert.Equal("ntfs", bucket.FileSystem);
            var mounted = t.Engine.Mount("/win/part/1");
            Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(" " + mounted.MountPoint + " ") && l.Contains(" - fuseblk "));
            // in a session of its own: a Ctrl+C meant for the caller never reaches it
            string pid = Ntfs3gServing(t.StateDir);
            Assert.NotEqual(Shell.Run($"ps -o sid= -p {Environment.ProcessId}").Trim(), Shell.Run($"ps -o sid= -p {pid}").Trim());

            // compressed (LZNT1), sparse (64 MiB, two extents), random, Unicode and long names: by sha256
            Assert.Equal(10, _expected.Count);   // hiberfil.sys among them: a hibernated volume reads, read-only
            foreach (var (path, hash) in _expected)
            {
                using var s = t.Engine.OpenRead("/win/part/1/" + path);
                Assert.Equal(hash, Sha256(s));
            }
            Assert.Equal(64L << 20, t.Engine.GetItem("/win/part/1/sparse.bin").Size);

            var top = t.Engine.List("/win/part/1").ToDictionary(i => i.Name);
            Assert.Contains("Ünïcödé – 日本語 файл 🎉.txt", top.Keys);
            Assert.Contains(new string('L', 236) + ".txt", top.Keys);
            Assert.Equal(ItemType.Directory, top["Compressed"].Type);
            // reparse points are links; a relative symlink keeps its target, Windows' backslashes turned
            Assert.Equal(ItemType.Symlink, top["Junction"].Type);
            Assert.Equal(ItemType.Symlink, top["System32"].Type);
            Assert.Equal(ItemType.Symlink, top["rel-link.txt"].Type);
            Assert.Equal("target/inner/t.txt", top["rel-link.txt"].LinkTarget);
            Assert.Equal(ItemType.Symlink, top["abs-link.txt"].Type);
            // ntfs-3g writes absolute targets as its mount point + path: shown as paths inside the volume
            Assert.Equal("/target", top["Junction"].LinkTarget);
            Assert.Equal("/.NTFS-3G/C:/Windows/System32", top["System32"].LinkTarget);
            Assert.Equal("/.NTFS-3G/C:/Users/x/secret.txt", top["abs-link.txt"].LinkTarget);
            Assert.Equal(ItemType.Symlink, top["escape-link.txt"].Type);

            // a junction into the volume is followed inside it; links out of it never reach this host
            Assert.Equal("in the target folder\n", ReadText(t.Engine, "/win/part/1/Junction/inner/t.txt"));
            Assert.Equal("in the target folder\n", ReadText(t.Engine, "/win/part/1/rel-link.txt"));
            foreach (var escape in new[] { "escape-link.txt", "abs-link.txt", "System32/drivers" })
                Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.Throws<RestoreException>(() => ReadText(t.Engine, "/win/part/1/" + escape)).Code);

            // the hard link: the same bytes under both names
            Assert.Equal("hello from NTFS\n", ReadText(t.Engine, "/win/part/1/Documents/hello-hardlink.txt"));

            // alternate data streams: named and read as user.NAME attributes, also in a tar export
            var xattrs = RestoreTools.Engine.Native.Xattrs.Read(Path.Combine(mounted.MountPoint!, "Documents/random.bin"));
            var zone = Assert.Single(xattrs, x => x.Name == "user.Zone.Identifier");
            Assert.Equal("[ZoneTransfer]\r\nZoneId=3\r\n", Encoding.ASCII.GetString(zone.Value));
            using var tar = new MemoryStream();
            t.Engine.Export("/win/part/1/hello.txt", tar, new RestoreTools.Engine.Export.ExportOptions(RestoreTools.Engine.Export.ExportFormat.Tar) { Xattrs = true });
            Assert.Contains("SCHILY.xattr.user.secret", Encoding.Latin1.GetString(tar.ToArray()));
            using var links = new MemoryStream();
            t.Engine.Export("/win/part/1/Junction", links, new RestoreTools.Engine.Export.ExportOptions(RestoreTools.Engine.Export.ExportFormat.Tar));
            Assert.DoesNotContain(t.StateDir, Encoding.Latin1.GetString(links.ToArray()));

            t.Engine.DetachImage("win");
            // the unmount ended ntfs-3g
            Assert.Empty(Ntfs3gServing(t.StateDir));
            Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(t.StateDir, StringComparison.Ordinal));
        }
        Assert.Equal(sha, Shell.Sha256(_image));
    }

    [Fact]
    public void DisposingTheEngineEndsNtfs3g()
    {
        var t = new TestEngine();
        try
        {
            t.Engine.AttachImage(_image, "win");
            t.Engine.Mount("/win/part/1");
            Assert.NotEmpty(Ntfs3gServing(t.StateDir));
        }
        finally { t.Engine.Dispose(); }
        Assert.Empty(Ntfs3gServing(t.StateDir));
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(t.StateDir, StringComparison.Ordinal));
        t.Dispose();
    }

    [Fact]
    public void AKilledAgentsNtfs3gMountIsCleanedByTheNextOne()
    {
        using var first = AgentProcess.Start(aot: false, token: true, "--image", "w=" + _image);
        using (var client = first.Client())
        {
            string mountPoint = client.Mount("/w/part/1").MountPoint!;
            Assert.Equal("hello from NTFS\n", File.ReadAllText(Path.Combine(mountPoint, "hello.txt")));
        }
        first.Process.Kill();   // SIGKILL: its ntfs-3g lives on, serving the mount
        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.NotEmpty(Ntfs3gServing(first.StateDir));

        using var second = AgentProcess.Start(aot: false, token: true, "--state-dir", first.StateDir);
        for (int i = 0; i < 50 && Ntfs3gServing(first.StateDir).Length > 0; i++) Thread.Sleep(100);
        Assert.Empty(Ntfs3gServing(first.StateDir));
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(first.StateDir + "/mnt/", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(first.StateDir, "mnt")));
    }

    [Fact]
    public void ADeadNtfs3gLeavesAMountThatUnmountsCleanly()
    {
        using var t = new TestEngine();
        t.Engine.AttachImage(_image, "win");
        var mounted = t.Engine.Mount("/win/part/1");
        string pid = Ntfs3gServing(t.StateDir);
        Shell.Run($"kill -9 {pid}");
        for (int i = 0; i < 50 && Ntfs3gServing(t.StateDir).Length > 0; i++) Thread.Sleep(100);
        t.Engine.Unmount("/win/part/1");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(mounted.MountPoint!, StringComparison.Ordinal));
        // and it mounts again
        t.Engine.Mount("/win/part/1");
        Assert.Equal("hello from NTFS\n", ReadText(t.Engine, "/win/part/1/hello.txt"));
    }

    [Fact]
    public void ADamagedVolumeFailsWithNtfs3gsReason()
    {
        // $MFTMirr's first records zeroed (its cluster from the boot sector): the signature probe (boot
        // sector and $MFT) still says ntfs, ntfs-3g refuses a mirror that does not match $MFT.
        string bad = Path.Combine(_dir, "bad.img");
        File.Copy(_image, bad);
        using (var f = new FileStream(bad, FileMode.Open, FileAccess.ReadWrite))
        {
            var boot = new byte[512];
            f.Position = 1 << 20;
            f.ReadExactly(boot);
            long cluster = BitConverter.ToUInt16(boot, 0x0B) * (long)boot[0x0D];
            f.Position = (1 << 20) + BitConverter.ToInt64(boot, 0x38) * cluster;
            f.Write(new byte[4096]);
        }
        using var t = new TestEngine();
        t.Engine.AttachImage(bad, "bad");
        Assert.Equal("ntfs", t.Engine.GetBucket("/bad/part/1").FileSystem);
        var ex = Assert.Throws<RestoreException>(() => t.Engine.Mount("/bad/part/1"));
        Assert.Equal(RestoreErrorCode.MountFailed, ex.Code);
        Assert.Contains("(tried ntfs-3g", ex.Message);
        Assert.Contains("ntfs-3g: Record 0 has no FILE magic (0x0); Failed to mount", ex.Message);
        Assert.DoesNotContain("chkdsk", ex.Message);
        Assert.Empty(Ntfs3gServing(t.StateDir));
    }

    private static string ReadText(IRestoreEngine engine, string path)
    {
        using var r = new StreamReader(engine.OpenRead(path));
        return r.ReadToEnd();
    }
}
