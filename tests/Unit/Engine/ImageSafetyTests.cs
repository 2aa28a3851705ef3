using System.Net.Sockets;
using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// What may be attached as an image: only regular files and block devices, opened without ever
/// waiting; and with an image root, only files reached inside it without following a symlink.
/// </summary>
public sealed class ImageSafetyTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    private string Fifo()
    {
        string fifo = Path.Combine(_images.Dir, "fifo");
        Shell.Run($"mkfifo '{fifo}'");
        return fifo;
    }

    [Fact]
    public async Task AFifoIsRefusedAtOnceAndBlocksNothing()
    {
        string fifo = Fifo();
        var img = _images.FileSystem("ext4", 16, "ok", _images.Tree("t", ("f.txt", "x")));
        // Before, the open waited for a writer with the attachments' lock held: run it aside.
        var attach = Task.Run(() => Assert.Throws<RestoreException>(() => _t.Engine.AttachImage(fifo, "fifo")));
        Assert.Same(attach, await Task.WhenAny(attach, Task.Delay(TimeSpan.FromSeconds(20))));
        var ex = await attach;
        Assert.Equal(RestoreErrorCode.NotAFile, ex.Code);
        Assert.Contains("FIFO", ex.Message);
        Assert.Contains(fifo, ex.Message);
        // The other calls that take the attachments' lock go on.
        Assert.Equal("ok", _t.Engine.AttachImage(img, "ok").Name);
        Assert.Single(_t.Engine.GetDisks());
    }

    [Theory]
    [InlineData("/dev/null", "character device")]
    [InlineData("/dev/zero", "character device")]
    [InlineData("socket", "socket")]
    [InlineData("folder", "folder")]
    public void OnlyRegularFilesAndBlockDevicesAreAttached(string what, string named)
    {
        string path = what switch
        {
            "socket" => Path.Combine(_images.Dir, "sock"),
            "folder" => _images.Tree("folder"),
            _ => what,
        };
        // Kept bound while it is tried: .NET removes the socket file when the socket is closed.
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (what == "socket") s.Bind(new UnixDomainSocketEndPoint(path));
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.AttachImage(path, "x"));
        Assert.Equal(RestoreErrorCode.NotAFile, ex.Code);
        Assert.Contains(named, ex.Message);
        Assert.Empty(_t.Engine.GetDisks());
    }

    [Fact]
    public void AMissingImageIsImageNotFound() =>
        Assert.Equal(RestoreErrorCode.ImageNotFound,
            Assert.Throws<RestoreException>(() => _t.Engine.AttachImage(Path.Combine(_images.Dir, "none.img"), "n")).Code);

    [Fact]
    public void ABlockDeviceIsAttached()
    {
        // A loop device of the test's own, as an image: the engine stacks its own loop device on it.
        var img = _images.FileSystem("ext4", 16, "blk", _images.Tree("b", ("who", "block")));
        string loop = Shell.Run($"losetup -f --show -r '{img}'").Trim();
        try
        {
            using var t = new TestEngine();
            Assert.Equal("blk", t.Engine.AttachImage(loop, "blk").Name);
            Assert.Equal("block", File.ReadAllText(t.Engine.Resolve("/blk/raw/who").LocalPath!));
        }
        finally { Shell.Run($"losetup -d '{loop}'"); }
    }

    [Fact]
    public void ImageRootConfinesWhatMayBeAttached()
    {
        string root = Path.Combine(_images.Dir, "root");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        var img = _images.FileSystem("ext4", 16, "in", _images.Tree("i", ("who", "inside")));
        File.Move(img, Path.Combine(root, "sub/in.img"));
        var outside = _images.FileSystem("ext4", 16, "out", _images.Tree("o", ("who", "outside")));
        File.CreateSymbolicLink(Path.Combine(root, "out.img"), outside);                  // a link that leads out
        File.CreateSymbolicLink(Path.Combine(root, "in-link.img"), Path.Combine(root, "sub/in.img"));  // one that stays in: still refused
        Directory.CreateSymbolicLink(Path.Combine(root, "dirlink"), _images.Dir);        // a folder link that leads out
        File.Copy(outside, Path.Combine(_images.Dir, "copy.img"));

        using var state = new TestEngine();
        using var engine = new RestoreEngine(new EngineOptions
        {
            NodeDir = Path.Combine(state.StateDir, "e/dev"),
            MountRoot = Path.Combine(state.StateDir, "e/mnt"),
            ImageRoot = root,
        });
        RestoreErrorCode Refused(string path) => Assert.Throws<RestoreException>(() => engine.AttachImage(path, "x")).Code;

        Assert.Equal(RestoreErrorCode.InvalidPath, Refused(outside));                                  // absolute, outside
        Assert.Equal(RestoreErrorCode.InvalidPath, Refused("../" + Path.GetFileName(outside)));         // relative, climbing out
        Assert.Equal(RestoreErrorCode.InvalidPath, Refused(Path.Combine(root, "sub/../../copy.img")));
        Assert.Equal(RestoreErrorCode.InvalidPath, Refused("out.img"));
        Assert.Equal(RestoreErrorCode.InvalidPath, Refused("in-link.img"));
        Assert.Equal(RestoreErrorCode.InvalidPath, Refused("dirlink/copy.img"));
        Assert.Contains("symlink", Assert.Throws<RestoreException>(() => engine.AttachImage("out.img", "x")).Message);
        Assert.Contains("outside the image root", Assert.Throws<RestoreException>(() => engine.AttachImage(outside, "x")).Message);
        Assert.Equal(RestoreErrorCode.NotAFile, Refused(root));
        Assert.Equal(RestoreErrorCode.ImageNotFound, Refused("sub/none.img"));
        Assert.Empty(engine.GetDisks());

        // Inside, by a path relative to the root and by an absolute one.
        Assert.Equal("rel", engine.AttachImage("sub/in.img", "rel").Name);
        Assert.Equal("inside", File.ReadAllText(engine.Resolve("/rel/raw/who").LocalPath!));
        Assert.Equal(Path.Combine(root, "sub/in.img"), engine.AttachImage(Path.Combine(root, "sub/in.img"), "abs").ImagePath);
    }
}
