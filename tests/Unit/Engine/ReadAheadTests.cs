using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// The read-ahead window of exports and copies (Export/ReadAhead.cs) on a real ext4 image: more files
/// than the window, hard links (whose data the writer never opens) and files a filter leaves out;
/// every byte as on disk, and no descriptor left open, cold (caches dropped) and warm.
/// </summary>
public sealed class ReadAheadTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();
    private readonly string _tree;

    public ReadAheadTests()
    {
        var files = Enumerable.Range(0, 3 * ReadAhead.Window + 5)
            .Select(i => ($"many/f{i:D3}.{(i % 3 == 0 ? "log" : "txt")}", new string((char)('a' + i % 26), 100 + i * 37)))
            .Append(("many/empty.txt", ""))
            .ToArray();
        _tree = _images.Tree("ra", files);
        // Second names of files: the writer writes them as links and never opens their data.
        for (int i = 0; i < 10; i++) Shell.Run($"ln '{_tree}/many/f{i:D3}.{(i % 3 == 0 ? "log" : "txt")}' '{_tree}/many/link{i}.txt'");
        _t.Engine.AttachImage(_images.FileSystem("ext4", 16, "readahead", _tree), "ra");
    }

    /// <summary>This process's descriptors of files inside the bucket (the runtime's own come and go).</summary>
    private int OpenInBucket()
    {
        string mount = _t.Engine.Resolve("/ra/raw").LocalPath!.TrimEnd('/') + "/";
        int n = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try { if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(mount, StringComparison.Ordinal)) n++; }
            catch (IOException) { } // gone while listed
        }
        return n;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExportsEveryByteAndClosesEveryFile(bool cold)
    {
        _t.Engine.Mount("/ra/raw");
        if (cold) Shell.Run("sync; echo 3 > /proc/sys/vm/drop_caches");
        var tar = Path.Combine(_images.Dir, $"out-{cold}.tar");
        using (var output = File.Create(tar))
            _t.Engine.Export("/ra/raw/many", output, new ExportOptions(ExportFormat.Tar));
        Assert.Equal(0, OpenInBucket());
        var back = Directory.CreateDirectory(Path.Combine(_images.Dir, $"back-{cold}")).FullName;
        Shell.Run($"tar -xf '{tar}' -C '{back}'");
        Shell.Run($"diff -r '{_tree}/many' '{back}/many'");
    }

    [Fact]
    public void ACopyThatLeavesFilesOutClosesThemToo()
    {
        var dest = Path.Combine(_images.Dir, "copy");
        _t.Engine.Copy("/ra/raw/many", dest, new CopyOptions { Recurse = true, Include = ["*.log"] });
        Assert.Equal(0, OpenInBucket());
        var copied = Directory.GetFiles(dest).Select(Path.GetFileName).Order().ToArray();
        Assert.All(copied, n => Assert.EndsWith(".log", n));
        Assert.Equal(Directory.GetFiles(Path.Combine(_tree, "many"), "*.log").Length, copied.Length);
        foreach (var n in copied) Assert.Equal(File.ReadAllBytes(Path.Combine(_tree, "many", n!)), File.ReadAllBytes(Path.Combine(dest, n!)));
    }

    public void Dispose()
    {
        _t.Dispose();
        _images.Dispose();
    }
}
