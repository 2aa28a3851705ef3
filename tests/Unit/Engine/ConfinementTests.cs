using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// A hostile image: "..", absolute and relative symlinks that point out of the filesystem. Each
/// escape has a twin file inside the image and one on the host; only the image's may be reached.
/// </summary>
public sealed class ConfinementTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();
    private readonly string _hostDir;
    private readonly string _hostSecret;

    public ConfinementTests()
    {
        // A host folder at a path the image also has; its file must never be read through the image.
        _hostDir = Directory.CreateTempSubdirectory("rt-host-").FullName;
        _hostSecret = Path.Combine(_hostDir, "secret");
        File.WriteAllText(_hostSecret, "HOST");
        string rel = _hostDir.TrimStart('/');
        var tree = _images.Tree("hostile",
            (rel + "/secret", "IMAGE"),
            ("etc/hostname", "image-host"),
            ("abs-escape", "->" + _hostDir),                              // absolute: must mean the image's folder
            ("deep/rel-escape", "->../../../../../../../../../" + rel),   // relative, climbing past the top
            ("root-link", "->/"),
            ("loop-a", "->loop-b"),
            ("loop-b", "->loop-a"),
            ("self", "->self"),
            ("dangling", "->/nowhere/at/all"));
        var img = _images.FileSystem("ext4", 16, "hostile", tree);
        _t.Engine.AttachImage(img, "hostile");
    }

    public void Dispose()
    {
        _t.Dispose();
        _images.Dispose();
        Directory.Delete(_hostDir, true);
    }

    private string Read(string path) => File.ReadAllText(_t.Engine.Resolve(path).LocalPath!);

    [Theory]
    [InlineData("/hostile/raw/abs-escape/secret")]
    [InlineData("/hostile/raw/deep/rel-escape/secret")]
    [InlineData("/hostile/raw/root-link/root-link/abs-escape/secret")]
    public void SymlinksResolveInsideTheImage(string path)
    {
        Assert.Equal("IMAGE", Read(path));
        string mount = _t.Engine.GetBucket("/hostile/raw").MountPoint!;
        Assert.StartsWith(mount + "/", _t.Engine.Resolve(path).LocalPath);
    }

    [Fact]
    public void DotDotStopsAtTheFilesystemRoot()
    {
        Assert.Equal("image-host", Read("/hostile/raw/../../../../etc/hostname"));
        Assert.Equal("image-host", Read("/hostile/raw/deep/../../../etc/../etc/hostname"));
        var root = _t.Engine.Resolve("/hostile/raw/..");
        Assert.Equal(_t.Engine.GetBucket("/hostile/raw").MountPoint, root.LocalPath);
        Assert.Equal("/", root.RelativePath);
    }

    [Theory]
    [InlineData("/hostile/raw/loop-a")]
    [InlineData("/hostile/raw/self/x")]
    public void SymlinkLoopsAreAnError(string path)
    {
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Resolve(path));
        Assert.Equal(RestoreErrorCode.SymlinkLoop, ex.Code);
    }

    [Fact]
    public void DanglingAndMissingAreNotFound()
    {
        Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/hostile/raw/dangling")).Code);
        Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/hostile/raw/etc/hostname/x")).Code);
        Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/hostile/raw/no-such-file")).Code);
    }

    [Fact]
    public void DotSegmentsCannotNameDisksOrBuckets()
    {
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/../hostile/raw")).Code);
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() => _t.Engine.Resolve("/hostile/..")).Code);
    }
}
