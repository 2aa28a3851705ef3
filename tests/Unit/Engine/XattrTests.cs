using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>An ext4 image whose entries carry extended attributes, set by python and copied in by mke2fs -d.</summary>
public sealed class XattrSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }

    public XattrSample()
    {
        string tree = Images.Tree("x", ("x/file.txt", "with attributes\n"), ("x/cap-bin", "#!/bin/sh\n"), ("x/sub/plain.txt", "plain\n"));
        // security.capability v2 with cap_setuid (bit 7) permitted and effective.
        Shell.Run($"cd '{tree}/x' && python3 -c '"
            + "import os\n"
            + "os.setxattr(\"file.txt\", \"user.comment\", b\"hello\\x00bytes\\xff\")\n"
            + "os.setxattr(\"sub\", \"trusted.note\", b\"folder note\")\n"
            + "os.setxattr(\"cap-bin\", \"security.capability\", bytes([1,0,0,2, 0x80,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,0]))'");
        Image = Images.FileSystem("ext4", 16, "xattr", tree);
    }

    public void Dispose() => Images.Dispose();
}

public abstract class XattrTests : IDisposable
{
    private readonly TestImages _work = new();
    protected abstract IRestoreEngine Engine { get; }

    public virtual void Dispose() => _work.Dispose();

    private static string Get(string path, string name) =>
        Shell.Run($"python3 -c 'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print(\"-\")' '{path}' '{name}'").Trim();

    private static readonly string Comment = Convert.ToHexString("hello\0bytes"u8.ToArray().Append((byte)0xFF).ToArray()).ToLowerInvariant();

    [Fact]
    public void ACopyCarriesThemOnlyWhenAskedAndNeverFileCapabilities()
    {
        string plain = Path.Combine(_work.Dir, "plain");
        Assert.Empty(Engine.Copy("/x/raw/x", plain, new CopyOptions()).Errors);
        Assert.Equal("-", Get($"{plain}/file.txt", "user.comment"));

        string with = Path.Combine(_work.Dir, "with");
        var warnings = new List<string>();
        var result = Engine.Copy("/x/raw/x", with, new CopyOptions { Xattrs = true, OnWarning = (p, r) => warnings.Add($"{p}: {r}") });
        Assert.Empty(result.Errors);
        Assert.Equal(Comment, Get($"{with}/file.txt", "user.comment"));
        Assert.Equal(Convert.ToHexString("folder note"u8).ToLowerInvariant(), Get($"{with}/sub", "trusted.note"));
        Assert.Equal("-", Get($"{with}/cap-bin", "security.capability"));
        Assert.Contains(warnings, w => w.StartsWith("cap-bin: file capabilities (security.capability) not restored", StringComparison.Ordinal));
    }

    [Fact]
    public void ATarExportWritesThemAsGnuTarDoes()
    {
        string tar = Path.Combine(_work.Dir, "x.tar");
        using (var output = File.Create(tar))
            Assert.Empty(Engine.Export("/x/raw/x", output, new ExportOptions(ExportFormat.Tar) { Xattrs = true }).Errors);
        string x = Directory.CreateDirectory(Path.Combine(_work.Dir, "gnu")).FullName;
        Shell.Run($"tar --xattrs --xattrs-include='*' -xf '{tar}' -C '{x}'");
        Assert.Equal(Comment, Get($"{x}/x/file.txt", "user.comment"));
        Assert.Equal(Convert.ToHexString("folder note"u8).ToLowerInvariant(), Get($"{x}/x/sub", "trusted.note"));
    }
}

public sealed class XattrLocalTests : XattrTests, IClassFixture<XattrSample>
{
    private readonly TestEngine _t = new();
    protected override IRestoreEngine Engine => _t.Engine;

    public XattrLocalTests(XattrSample sample) => _t.Engine.AttachImage(sample.Image, "x");

    public override void Dispose()
    {
        _t.Dispose();
        base.Dispose();
    }
}

public sealed class XattrAgentTests : XattrTests, IClassFixture<XattrSample>
{
    private readonly AgentProcess _agent;
    private readonly IRestoreEngine _client;
    protected override IRestoreEngine Engine => _client;

    public XattrAgentTests(XattrSample sample)
    {
        _agent = AgentProcess.Start(aot: false, token: true, "--image", "x=" + sample.Image);
        _client = _agent.Client();
    }

    public override void Dispose()
    {
        _client.Dispose();
        _agent.Dispose();
        base.Dispose();
    }
}
