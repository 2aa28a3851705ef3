using System.Text.Json;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>AgentClient against the local engine: the same objects and the same error codes.</summary>
[Collection("Agent")]
public sealed class AgentClientTests : IDisposable
{
    private readonly AgentFixture _f;
    private readonly TestEngine _local = new();
    private readonly AgentClient _client;
    private readonly string _tmp = Directory.CreateTempSubdirectory("rt-client-").FullName;

    public AgentClientTests(AgentFixture f)
    {
        _f = f;
        _local.Engine.AttachImage(f.Images.FilesImage, "files");
        _local.Engine.AttachImage(f.Images.GptImage, "gpt");
        _client = f.Agent.Client();
    }

    public void Dispose()
    {
        _client.Dispose();
        _local.Dispose();
        try { Directory.Delete(_tmp, true); } catch (IOException) { }
    }

    /// <summary>JSON of a value with what differs between two engines by nature (loop device, mount folder) blanked.</summary>
    private static string Norm<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(value, type))!;
        void Walk(System.Text.Json.Nodes.JsonNode? n)
        {
            if (n is System.Text.Json.Nodes.JsonObject o)
            {
                foreach (var key in new[] { "device", "kernelName", "mountPoint", "localPath", "isMounted", "journalReplayed" }) o.Remove(key);
                foreach (var kv in o.ToList()) Walk(kv.Value);
            }
            else if (n is System.Text.Json.Nodes.JsonArray a) foreach (var x in a) Walk(x);
        }
        Walk(node);
        return node.ToJsonString();
    }

    [Fact]
    public void SameDisksBucketsResolveItemsAndListings()
    {
        var json = AgentJsonContext.Default;
        Assert.Equal(Norm(_local.Engine.GetDisks(), json.IReadOnlyListRestoreDisk), Norm(_client.GetDisks(), json.IReadOnlyListRestoreDisk));
        Assert.Equal(Norm(_local.Engine.GetBuckets(), json.IReadOnlyListRestoreBucket), Norm(_client.GetBuckets(), json.IReadOnlyListRestoreBucket));
        Assert.Equal(Norm(_local.Engine.GetBuckets("gpt"), json.IReadOnlyListRestoreBucket), Norm(_client.GetBuckets("gpt"), json.IReadOnlyListRestoreBucket));
        Assert.Equal(Norm(_local.Engine.GetBucket("/gpt/part/2"), json.RestoreBucket), Norm(_client.GetBucket("/gpt/part/2"), json.RestoreBucket));
        foreach (var p in new[] { "/", "/gpt", "/gpt/part", "/gpt/part/1", "/files/raw/data", "/files/raw/data/notes.txt" })
            Assert.Equal(Norm(_local.Engine.Resolve(p), json.ResolvedPath), Norm(_client.Resolve(p), json.ResolvedPath));
        foreach (var p in new[] { "/", "/gpt/part", "/files/raw", "/files/raw/data", "/files/raw/data/link", "/gpt/part/2/two" })
        {
            Assert.Equal(Norm(_local.Engine.List(p).ToList(), json.ListRestoreItem), Norm(_client.List(p).ToList(), json.ListRestoreItem));
            Assert.Equal(Norm(_local.Engine.GetItem(p), json.RestoreItem), Norm(_client.GetItem(p), json.RestoreItem));
        }
        // Records whose fields are plain values compare equal outright.
        Assert.Equal(_local.Engine.GetItem("/files/raw/data/notes.txt"), _client.GetItem("/files/raw/data/notes.txt"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative")]
    [InlineData("/nope/raw")]
    [InlineData("/gpt/zzz")]
    [InlineData("/gpt/part/9")]
    [InlineData("/gpt/part/..")]
    [InlineData("/files/raw/missing")]
    [InlineData("/files/raw/data/missing/deeper")]
    public void SameErrorCodesForBadPaths(string path)
    {
        RestoreErrorCode Code(Action a) => Assert.Throws<RestoreException>(a).Code;
        var engines = new IRestoreEngine[] { _local.Engine, _client };
        var codes = engines.Select(e => new[]
        {
            Code(() => e.Resolve(path)),
            Code(() => e.GetItem(path)),
            Code(() => e.List(path).ToList()),
            Code(() => e.OpenRead(path).Dispose()),
            Code(() => e.Export(path, Stream.Null, new ExportOptions())),
        }).ToList();
        Assert.Equal(codes[0], codes[1]);
    }

    [Fact]
    public void SameErrorCodesForWrongKinds()
    {
        foreach (var e in new IRestoreEngine[] { _local.Engine, _client })
        {
            Assert.Equal(RestoreErrorCode.NotAFile, Assert.Throws<RestoreException>(() => e.OpenRead("/files/raw/data").Dispose()).Code);
            Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() => e.GetBucket("/gpt")).Code);
            Assert.Equal(RestoreErrorCode.DiskNotFound, Assert.Throws<RestoreException>(() => e.GetBuckets("nope")).Code);
            Assert.Equal(RestoreErrorCode.ImageNotFound, Assert.Throws<RestoreException>(() => e.AttachImage("/nonexistent.img", "n")).Code);
            Assert.Equal(RestoreErrorCode.NameInUse, Assert.Throws<RestoreException>(() => e.AttachImage(_f.Images.GptImage, "gpt")).Code);
        }
    }

    [Fact]
    public void ReadsExportsAndCopiesLikeTheLocalEngine()
    {
        const string big = "/files/raw/data/big.bin";
        foreach (var (offset, length) in new (long, long?)[] { (0, null), (1000, 5000), (24L << 20, 10), (5, 0) })
        {
            using var a = _local.Engine.OpenRead(big, offset, length);
            using var b = _client.OpenRead(big, offset, length);
            var ma = new MemoryStream(); a.CopyTo(ma);
            var mb = new MemoryStream(); b.CopyTo(mb);
            Assert.Equal(ma.ToArray(), mb.ToArray());
        }

        string tarLocal = Path.Combine(_tmp, "local.tar"), tarRemote = Path.Combine(_tmp, "remote.tar");
        using (var s = File.Create(tarLocal)) _local.Engine.Export("/files/raw/data", s, new ExportOptions());
        ExportResult remote;
        using (var s = File.Create(tarRemote)) remote = _client.Export("/files/raw/data", s, new ExportOptions());
        Assert.Equal(new FileInfo(tarRemote).Length, remote.Bytes);
        Assert.Equal(Shell.Run($"tar -tvf '{tarLocal}'"), Shell.Run($"tar -tvf '{tarRemote}'"));

        // Copy: into an existing folder under the item's name, and to a new path.
        foreach (var target in new[] { "into", "new/path" })
        {
            string l = Path.Combine(_tmp, "l", target), r = Path.Combine(_tmp, "r", target);
            Directory.CreateDirectory(target == "into" ? l : Path.GetDirectoryName(l)!);
            Directory.CreateDirectory(target == "into" ? r : Path.GetDirectoryName(r)!);
            _local.Engine.Copy("/files/raw/data", l, new CopyOptions());
            var result = _client.Copy("/files/raw/data", r, new CopyOptions());
            Assert.Empty(result.Errors);
            Assert.Equal(Shell.Run($"cd '{l}' && find . -printf '%p %y %m %s %l\\n' | sort"), Shell.Run($"cd '{r}' && find . -printf '%p %y %m %s %l\\n' | sort"));
        }
    }

    [Fact]
    public void WrongTokenIsAnAgentExceptionNotAnEngineError()
    {
        using var bad = new AgentClient("unix:" + _f.Agent.Socket, "wrong");
        var ex = Assert.Throws<AgentException>(() => bad.GetDisks());
        Assert.Equal(401, ex.StatusCode);
        Assert.Equal("Unauthorized", ex.Code);
        Assert.True(bad.IsAlive());
        Assert.Equal(2, _client.GetStatus().Disks);
    }
}
