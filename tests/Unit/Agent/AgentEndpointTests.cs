using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using RestoreTools.Contract;
using RestoreTools.Engine.Browsing;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>Every endpoint of a real agent process, with good and bad input.</summary>
[Collection("Agent")]
public sealed class AgentEndpointTests(AgentFixture f) : IDisposable
{
    private readonly HttpClient _http = f.Agent.Http();
    private readonly List<string> _temp = [];

    public void Dispose()
    {
        _http.Dispose();
        foreach (var t in _temp) try { Directory.Delete(t, true); } catch (IOException) { }
    }

    private string TempDir()
    {
        string d = Directory.CreateTempSubdirectory("rt-agent-t-").FullName;
        _temp.Add(d);
        return d;
    }

    [Fact]
    public async Task StatusIsLivenessWithoutTokenAndFullWithIt()
    {
        using var anonymous = f.Agent.Http("");
        var (s1, live) = await anonymous.GetJson("status");
        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal("""{"ok":true}""", live.GetRawText());

        var (s2, full) = await _http.GetJson("status");
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal(2, full.GetProperty("disks").GetInt32());
        Assert.Equal("0.1.0", full.GetProperty("version").GetString());
        Assert.False(full.GetProperty("restoreVm").GetBoolean());
        Assert.True(full.GetProperty("uptimeSeconds").GetDouble() > 0);

        using var wrong = f.Agent.Http("not-the-token");
        var (s3, err) = await wrong.GetJson("status");
        Assert.Equal(HttpStatusCode.Unauthorized, s3);
        Assert.Equal("Unauthorized", err.Code());
    }

    [Theory]
    [InlineData("GET", "disks")]
    [InlineData("GET", "buckets?disk=files")]
    [InlineData("GET", "bucket?path=/gpt/part/1")]
    [InlineData("GET", "resolve?path=/")]
    [InlineData("GET", "item?path=/files/raw/a.txt")]
    [InlineData("GET", "list?path=/files/raw")]
    [InlineData("GET", "content?path=/files/raw/a.txt")]
    [InlineData("GET", "extract?path=/files/raw/data")]
    [InlineData("POST", "mount?path=/gpt/part/1")]
    [InlineData("POST", "unmount?path=/gpt/part/1")]
    [InlineData("POST", "images?path=/tmp/x.img&name=x")]
    [InlineData("DELETE", "images?name=files")]
    [InlineData("POST", "stop")]
    public async Task EveryEndpointNeedsTheToken(string method, string url)
    {
        foreach (var token in new[] { "", "wrong", f.Agent.Token + "x" })
        {
            using var http = f.Agent.Http(token);
            var (status, json) = await http.GetJson(url, new HttpMethod(method));
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("Unauthorized", json.Code());
        }
        // Nothing happened: the agent runs, the image is still there.
        var (_, disks) = await _http.GetJson("disks");
        Assert.Equal(2, disks.GetArrayLength());
    }

    [Fact]
    public void TokenFileAndSocketAreOwnerOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f.Agent.TokenFile));
        Assert.Matches("^[0-9a-f]{64}$", f.Agent.Token!);
        Assert.Equal("srw-------", Shell.Run($"stat -c %A '{f.Agent.Socket}'").Trim());
    }

    [Fact]
    public async Task DisksBucketsResolveAndItems()
    {
        var (_, disks) = await _http.GetJson("disks");
        var byName = disks.EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!);
        Assert.Equal(["files", "gpt"], byName.Keys.Order());
        Assert.Equal("gpt", byName["gpt"].GetProperty("partitionTable").GetString());
        Assert.Equal(f.Images.FilesImage, byName["files"].GetProperty("imagePath").GetString());

        var (_, buckets) = await _http.GetJson("buckets?disk=gpt");
        Assert.Equal(["first", "second"], buckets.EnumerateArray().Select(b => b.GetProperty("label").GetString()));
        var (_, bucket) = await _http.GetJson("bucket?path=/gpt/part/2");
        Assert.Equal("ext4", bucket.GetProperty("fileSystem").GetString());

        var (s, resolved) = await _http.GetJson("resolve?path=" + Uri.EscapeDataString("/files/raw/data"));
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal("Item", resolved.GetProperty("kind").GetString());
        Assert.True(Directory.Exists(resolved.GetProperty("localPath").GetString()));

        var (_, root) = await _http.GetJson("resolve?path=/");
        Assert.Equal(["files", "gpt"], root.GetProperty("children").EnumerateArray().Select(c => c.GetProperty("name").GetString()).Order());

        var (_, link) = await _http.GetJson("item?path=/files/raw/data/link");
        Assert.Equal("Symlink", link.GetProperty("type").GetString());
        Assert.Equal("../a.txt", link.GetProperty("linkTarget").GetString());
        var (_, file) = await _http.GetJson("item?path=/files/raw/data/notes.txt");
        Assert.Equal(14, file.GetProperty("size").GetInt64());
        Assert.Equal("-rw-r--r--", file.GetProperty("modeString").GetString());
    }

    [Theory]
    [InlineData("resolve", 400, "InvalidPath")]
    [InlineData("resolve?path=", 400, "InvalidPath")]
    [InlineData("resolve?path=relative/x", 400, "InvalidPath")]
    [InlineData("resolve?path=/nope", 404, "DiskNotFound")]
    [InlineData("resolve?path=/gpt/zzz", 404, "BucketTypeNotFound")]
    [InlineData("resolve?path=/gpt/part/9", 404, "ComponentNotFound")]
    [InlineData("item?path=/files/raw/missing.txt", 404, "ItemNotFound")]
    [InlineData("list?path=/files/raw/missing", 404, "ItemNotFound")]
    [InlineData("list?path=/nope", 404, "DiskNotFound")]
    [InlineData("buckets?disk=nope", 404, "DiskNotFound")]
    [InlineData("bucket?path=/gpt", 400, "InvalidPath")]
    [InlineData("content?path=/files/raw/data", 400, "NotAFile")]
    [InlineData("content?path=/files/raw/missing", 404, "ItemNotFound")]
    [InlineData("extract?path=/files/raw/data&format=rar", 400, "BadRequest")]
    [InlineData("extract?path=/files/raw/missing", 404, "ItemNotFound")]
    [InlineData("extract?path=/files/raw/data&format=raw", 400, "NotAFile")]
    [InlineData("nothing-here", 404, "NotFound")]
    public async Task BadInputGetsTheRightCode(string url, int status, string code)
    {
        var (s, json) = await _http.GetJson(url);
        Assert.Equal(status, (int)s);
        Assert.Equal(code, json.Code());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task ListsFoldersAndPartialPaths()
    {
        var (_, data) = await _http.GetJson("list?path=/files/raw/data");
        Assert.Equal(["big.bin", "deep", "link", "notes.txt"], data.EnumerateArray().Select(e => e.GetProperty("name").GetString()).Order());
        var (_, parts) = await _http.GetJson("list?path=/gpt/part");
        Assert.Equal(["1", "2"], parts.EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        var (_, root) = await _http.GetJson("list?path=/");
        Assert.Equal(["files", "gpt"], root.EnumerateArray().Select(e => e.GetProperty("name").GetString()).Order());
    }

    [Fact]
    public async Task AHundredThousandEntriesAreStreamedInConstantMemory()
    {
        long first = await ListMany();              // also warms the code paths and the GC's budgets
        long hwmBefore = Hwm();
        long second = await ListMany();
        long grown = Hwm() - hwmBefore;
        Assert.Equal(first, second);
        Assert.True(second > 15 << 20, $"the listing was {second} bytes");
        // A second listing of 20 MiB needs no more memory than the first: nothing is held per entry.
        Assert.True(grown < 8 << 20, $"the agent's peak RSS grew by {grown >> 20} MiB for a {second >> 20} MiB listing");
    }

    private async Task<long> ListMany()
    {
        using var response = await _http.GetAsync("list?path=/files/raw/many", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.True(response.Headers.TransferEncodingChunked);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var counting = new CountingReadStream(stream);
        int count = 0;
        string? last = null;
        await foreach (var item in JsonSerializer.DeserializeAsyncEnumerable(counting, AgentJsonContext.Default.RestoreItem))
        {
            count++;
            last = item!.Name;
            Assert.Equal(ItemType.File, item.Type);
        }
        Assert.Equal(AgentImages.ManyCount, count);
        Assert.StartsWith("f", last);
        return counting.Count;
    }

    private long Hwm() =>
        long.Parse(File.ReadLines($"/proc/{f.Agent.Process.Id}/status").First(l => l.StartsWith("VmHWM:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    [Fact]
    public async Task ContentWithRanges()
    {
        byte[] expected = await File.ReadAllBytesAsync(f.Images.BigFile);
        var full = await _http.GetByteArrayAsync("content?path=/files/raw/data/big.bin");
        Assert.Equal(expected, full);

        foreach (var (from, to, offset, length) in new (long?, long?, long, long)[]
                 { (100, 199, 100, 100), (expected.Length - 10, null, expected.Length - 10, 10), (null, 10, expected.Length - 10, 10), (0, 0, 0, 1), (1000, expected.Length + 5000L, 1000, expected.Length - 1000) })
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "content?path=/files/raw/data/big.bin");
            req.Headers.Range = new RangeHeaderValue(from, to);
            using var response = await _http.SendAsync(req);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes {offset}-{offset + length - 1}/{expected.Length}", response.Content.Headers.ContentRange!.ToString());
            Assert.Equal(expected.AsSpan((int)offset, (int)length).ToArray(), await response.Content.ReadAsByteArrayAsync());
        }

        using var beyond = new HttpRequestMessage(HttpMethod.Get, "content?path=/files/raw/data/big.bin");
        beyond.Headers.Range = new RangeHeaderValue(expected.Length, null);
        using var r416 = await _http.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, r416.StatusCode);
        Assert.Equal($"bytes */{expected.Length}", r416.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task ExtractMatchesTheMountedTree()
    {
        var (_, resolved) = await _http.GetJson("resolve?path=/files/raw/data");
        string local = resolved.GetProperty("localPath").GetString()!;
        string expected = Shell.Run($"cd '{Path.GetDirectoryName(local)}' && tar -cf - data | tar -tf - | sed 's|/$||' | sort");
        string dir = TempDir();
        foreach (var (format, list) in new[] { ("tar", "tar -tf"), ("targz", "tar -tzf"), ("tarzst", "tar --zstd -tf"), ("zip", "unzip -Z1") })
        {
            string file = Path.Combine(dir, "x." + format);
            using (var response = await _http.GetAsync($"extract?path=/files/raw/data&format={format}", HttpCompletionOption.ResponseHeadersRead))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("data", response.Content.Headers.ContentDisposition!.ToString());
                await using var fs = File.Create(file);
                await response.Content.CopyToAsync(fs);
            }
            Assert.Equal(expected, Shell.Run($"{list} '{file}' | sed 's|/$||' | sort"));
        }
        // The archive's big file is the file.
        Shell.Run($"mkdir '{dir}/out' && tar -C '{dir}/out' -xf '{dir}/x.tar'");
        Assert.Equal(Shell.Sha256(f.Images.BigFile), Shell.Sha256(Path.Combine(dir, "out/data/big.bin")));

        var raw = await _http.GetByteArrayAsync("extract?path=/files/raw/data/notes.txt&format=raw");
        Assert.Equal("one\ntwo\nthree\n"u8.ToArray(), raw);
    }

    [Fact]
    public async Task MountAndUnmount()
    {
        var (s1, mounted) = await _http.GetJson("mount?path=/gpt/part/1", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.True(mounted.GetProperty("isMounted").GetBoolean());
        Assert.StartsWith(f.Agent.StateDir, mounted.GetProperty("mountPoint").GetString());

        var (s2, wrongMethod) = await _http.GetJson("mount?path=/gpt/part/1", HttpMethod.Get);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, s2);   // POST only
        Assert.Equal("BadRequest", wrongMethod.Code());
        var (s2b, noEndpoint) = await _http.GetJson("mountx?path=/gpt/part/1", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.NotFound, s2b);
        Assert.Equal("NotFound", noEndpoint.Code());

        var (s3, unmounted) = await _http.GetJson("unmount?path=/gpt/part/1", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.OK, s3);
        Assert.False(unmounted.GetProperty("isMounted").GetBoolean());

        var (s4, bad) = await _http.GetJson("mount?path=/gpt/part/9", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.NotFound, s4);
        Assert.Equal("ComponentNotFound", bad.Code());
        var (s5, bad2) = await _http.GetJson("mount?path=/gpt", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.BadRequest, s5);
        Assert.Equal("InvalidPath", bad2.Code());
    }

    [Fact]
    public async Task AttachAndDetachImages()
    {
        string url = $"images?path={Uri.EscapeDataString(f.Images.GptImage)}&name=gpt2";
        var (s1, disk) = await _http.GetJson(url, HttpMethod.Post);
        Assert.Equal(HttpStatusCode.Created, s1);
        Assert.Equal("gpt2", disk.GetProperty("name").GetString());
        try
        {
            var (_, disks) = await _http.GetJson("disks");
            Assert.Contains("gpt2", disks.EnumerateArray().Select(d => d.GetProperty("name").GetString()));
            var (s2, again) = await _http.GetJson(url, HttpMethod.Post);
            Assert.Equal(HttpStatusCode.Conflict, s2);
            Assert.Equal("NameInUse", again.Code());
        }
        finally
        {
            var (s3, _) = await _http.GetJson("images?name=gpt2", HttpMethod.Delete);
            Assert.Equal(HttpStatusCode.OK, s3);
        }
        var (s4, gone) = await _http.GetJson("images?name=gpt2", HttpMethod.Delete);
        Assert.Equal(HttpStatusCode.NotFound, s4);
        Assert.Equal("DiskNotFound", gone.Code());
        var (s5, missing) = await _http.GetJson("images?path=/nonexistent/x.img&name=x", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.NotFound, s5);
        Assert.Equal("ImageNotFound", missing.Code());
    }

    [Fact]
    public void RequestsAreLoggedOneLineEach()
    {
        f.Agent.RawGet("/api/v1/disks?marker=logline", f.Agent.Token);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!f.Agent.Stderr.Contains("marker=logline") && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var line = f.Agent.Stderr.Split('\n').Single(l => l.Contains("marker=logline"));
        Assert.Matches(@"GET /api/v1/disks\?marker=logline 200 \d+ B \d+ ms", line);
    }

    private sealed class CountingReadStream(Stream inner) : Stream
    {
        public long Count;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) { int n = inner.Read(buffer, offset, count); Count += n; return n; }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) { int n = await inner.ReadAsync(buffer, ct); Count += n; return n; }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
