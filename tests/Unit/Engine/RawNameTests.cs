using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Paths;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>An ext4 folder whose names are bytes that are not UTF-8 (Latin-1, a cut sequence), and a newline name.</summary>
public sealed class RawNameSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }

    /// <summary>The names of /n as python writes them (bytes), and their readable form.</summary>
    public static readonly (byte[] Bytes, string Display)[] Names =
    [
        ([.. "bad-"u8, 0xFF, .. ".txt"u8], "bad-\\xFF.txt"),
        ([.. "bad-"u8, 0xC3, (byte)'(', .. ".txt"u8], "bad-\\xC3(.txt"),
        ([.. "dir-"u8, 0xFF], "dir-\\xFF"),
        ("new\nline.txt"u8.ToArray(), "new\nline.txt"),
        ([.. "back\\slash-"u8, 0xE9], "back\\\\slash-\\xE9"),
    ];

    public RawNameSample()
    {
        string tree = Path.Combine(Images.Dir, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "n"));
        Shell.Run($"cd '{tree}/n' && python3 -c '"
            + "import os\n"
            + "for n in [b\"bad-\\xff.txt\", b\"bad-\\xc3(.txt\", b\"new\\nline.txt\", b\"back\\\\slash-\\xe9\"]: open(n, \"wb\").write(n)\n"
            + "os.mkdir(b\"dir-\\xff\"); open(b\"dir-\\xff/in\\xe9.txt\", \"wb\").write(b\"inner\")'");
        Image = Images.FileSystem("ext4", 16, "raw", tree);
    }

    public void Dispose() => Images.Dispose();
}

/// <summary>Names as bytes, end to end: listed, read by their readable path, copied and archived with the original bytes.</summary>
public abstract class RawNameTests : IDisposable
{
    private readonly TestImages _work = new();
    protected abstract IRestoreEngine Engine { get; }
    protected abstract string Disk { get; }

    public virtual void Dispose() => _work.Dispose();

    /// <summary>A folder's names as bytes, hex, sorted (python's os.listdir on bytes).</summary>
    private static string[] BytesOf(string dir) =>
        Shell.Run($"python3 -c 'import os,sys; print(\"\\n\".join(sorted(n.hex() for n in os.listdir(sys.argv[1].encode()))))' '{dir}'")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string[] Expected => RawNameSample.Names.Select(n => Convert.ToHexString(n.Bytes).ToLowerInvariant()).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void EveryNameIsListedReadablyWithItsBytes()
    {
        var items = Engine.List($"/{Disk}/raw/n").ToList();
        Assert.Equal(RawNameSample.Names.Select(n => n.Display).Order(StringComparer.Ordinal), items.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var (bytes, display) in RawNameSample.Names)
        {
            var item = items.Single(i => i.Name == display);
            // RawName only where the bytes are not UTF-8: the text says everything otherwise.
            if (NameCodec.Parse(display) is null && !display.Contains("\\\\")) Assert.Null(item.RawName);
            else Assert.Equal(bytes, item.RawName);
        }
    }

    [Fact]
    public void AReadablePathReachesTheFileAndRoundTrips()
    {
        using var reader = new StreamReader(Engine.OpenRead($"/{Disk}/raw/n/bad-\\xC3(.txt"));
        Assert.Equal("bad-\uFFFD(.txt", reader.ReadToEnd());
        var inner = Assert.Single(Engine.List($"/{Disk}/raw/n/dir-\\xFF"));
        Assert.Equal("in\\xE9.txt", inner.Name);
        Assert.Equal($"/{Disk}/raw/n/dir-\\xFF/in\\xE9.txt", inner.Path);
        Assert.Equal(inner.Path, Engine.GetItem(inner.Path).Path);
    }

    [Fact]
    public void ACopyWritesTheOriginalBytes()
    {
        string dest = Path.Combine(_work.Dir, "copy");
        var result = Engine.Copy($"/{Disk}/raw/n", dest, new CopyOptions());
        Assert.Empty(result.Errors);
        Assert.Equal(Expected, BytesOf(dest));
        Assert.Equal("696ee92e747874", Shell.Run($"python3 -c 'import os; print(os.listdir(b\"{dest}/dir-\\xff\")[0].hex())'").Trim());
        Assert.Equal("inner", Shell.Run($"python3 -c 'import sys; sys.stdout.write(open(b\"{dest}/dir-\\xff/in\\xe9.txt\",\"rb\").read().decode())'"));
    }

    [Fact]
    public void ATarExportHoldsTheOriginalBytesAsGnuTarReadsThem()
    {
        string tar = Path.Combine(_work.Dir, "n.tar");
        using (var output = File.Create(tar))
            Assert.Empty(Engine.Export($"/{Disk}/raw/n", output, new ExportOptions(ExportFormat.Tar)).Errors);
        string x = Directory.CreateDirectory(Path.Combine(_work.Dir, "x")).FullName;
        Shell.Run($"tar -xf '{tar}' -C '{x}'");
        Assert.Equal(Expected, BytesOf(Path.Combine(x, "n")));
    }

    [Fact]
    public void AZipHoldsTheOriginalBytesWithTheUtf8FlagOnlyOnUtf8Names()
    {
        string zip = Path.Combine(_work.Dir, "n.zip");
        using (var output = File.Create(zip))
            Assert.Empty(Engine.Export($"/{Disk}/raw/n", output, new ExportOptions(ExportFormat.Zip)).Errors);
        // python's zipfile decodes a name without the UTF-8 flag (0x800) as cp437: encoding it back gives the stored bytes.
        var stored = Shell.Run($"python3 -c '"
            + "import zipfile,sys\n"
            + "for i in zipfile.ZipFile(sys.argv[1]).infolist():\n"
            + " raw = i.filename.encode(\"utf-8\" if i.flag_bits & 0x800 else \"cp437\")\n"
            + $" print(raw.hex(), 1 if i.flag_bits & 0x800 else 0)' '{zip}'")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(f => f[0], f => f[1]);
        foreach (var (bytes, display) in RawNameSample.Names)
        {
            string hex = Convert.ToHexString([.. "n/"u8, .. bytes]).ToLowerInvariant();
            if (display == "dir-\\xFF") hex += "2f"; // a folder entry ends in '/'
            Assert.True(stored.ContainsKey(hex), $"{display}: not stored as its bytes");
            bool utf8 = NameCodec.Parse(display) is null;
            // ASCII names need no flag; non-ASCII UTF-8 names have it; raw names never claim it.
            if (!utf8) Assert.Equal("0", stored[hex]);
        }
    }
}

public sealed class RawNameLocalTests : RawNameTests, IClassFixture<RawNameSample>
{
    private readonly TestEngine _t = new();
    protected override IRestoreEngine Engine => _t.Engine;
    protected override string Disk => "r";

    public RawNameLocalTests(RawNameSample sample) => _t.Engine.AttachImage(sample.Image, "r");

    public override void Dispose()
    {
        _t.Dispose();
        base.Dispose();
    }
}

public sealed class RawNameAgentTests : RawNameTests, IClassFixture<RawNameSample>
{
    private readonly AgentProcess _agent;
    private readonly IRestoreEngine _client;
    protected override IRestoreEngine Engine => _client;
    protected override string Disk => "r";

    public RawNameAgentTests(RawNameSample sample)
    {
        _agent = AgentProcess.Start(aot: false, token: true, "--image", "r=" + sample.Image);
        _client = _agent.Client();
    }

    public override void Dispose()
    {
        _client.Dispose();
        _agent.Dispose();
        base.Dispose();
    }
}
