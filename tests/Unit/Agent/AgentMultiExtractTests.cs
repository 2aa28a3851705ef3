using System.IO.Compression;
using System.Net;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>A real agent on a real socket: several paths into one archive (repeated path=, a POSTed form, the client), and name filters.</summary>
[Collection("Agent")]
public sealed class AgentMultiExtractTests(AgentFixture f) : IDisposable
{
    private readonly HttpClient _http = f.Agent.Http();
    private readonly AgentClient _client = f.Agent.Client();
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-agent-multi-").FullName;

    public void Dispose()
    {
        _http.Dispose();
        _client.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static readonly string[] Paths = ["/files/raw/a.txt", "/gpt/part/1/one.txt", "/gpt/part/2/two", "/files/raw/data/deep"];

    private async Task<string> Save(HttpResponseMessage response, string name)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string file = Path.Combine(_dir, name);
        await using (var fs = File.Create(file)) await response.Content.CopyToAsync(fs);
        return file;
    }

    private static string Listing(string tar) => Shell.Run($"tar -tf '{tar}' | sort");

    private static string Form(IEnumerable<(string, string)> fields) =>
        string.Join("&", fields.Select(x => x.Item1 + "=" + Uri.EscapeDataString(x.Item2)));

    [Fact]
    public async Task RepeatedPathsAndAPostedFormGiveOneArchiveOfEveryItem()
    {
        string query = string.Concat(Paths.Select(p => "&path=" + Uri.EscapeDataString(p)))[1..];
        using var get = await _http.GetAsync("extract?" + query + "&format=tar", HttpCompletionOption.ResponseHeadersRead);
        string viaGet = await Save(get, "get.tar");
        Assert.Equal("a.txt\ndeep/\ndeep/er/\ndeep/er/leaf.txt\none.txt\ntwo/\ntwo/two.txt\n", Listing(viaGet));
        string x = Path.Combine(_dir, "x");
        Directory.CreateDirectory(x);
        Shell.Run($"tar -C '{x}' -xf '{viaGet}'");
        Assert.Equal("partition one\n", File.ReadAllText(Path.Combine(x, "one.txt")));
        Assert.Equal("partition two\n", File.ReadAllText(Path.Combine(x, "two/two.txt")));
        Assert.Equal(Shell.Sha256(Path.Combine(f.Images.Tree, "data/deep/er/leaf.txt")), Shell.Sha256(Path.Combine(x, "deep/er/leaf.txt")));

        using var post = await _http.PostAsync("extract", new StringContent(Form(Paths.Select(p => ("path", p)).Append(("format", "tar"))),
            System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
        string viaPost = await Save(post, "post.tar");
        Assert.Equal(Shell.Sha256(viaGet), Shell.Sha256(viaPost));
        Assert.Contains("restore.tar", post.Content.Headers.ContentDisposition!.ToString());
    }

    [Fact]
    public async Task ClashingNamesRawWithSeveralAndAFormlessPostAreClearErrors()
    {
        var (s1, e1) = await _http.GetJson("extract?path=/files/raw/a.txt&path=/gpt/part/1/one.txt&path=/files/raw/a.txt");
        Assert.Equal(HttpStatusCode.Conflict, s1);
        Assert.Equal("NameInUse", e1.Code());
        Assert.Contains("given twice", e1.GetProperty("message").GetString());

        var (s2, e2) = await _http.GetJson("extract?path=/files/raw/a.txt&path=/gpt/part/1/one.txt&format=raw");
        Assert.Equal(HttpStatusCode.NotImplemented, s2);
        Assert.Equal("NotSupported", e2.Code());

        using var json = await _http.PostAsync("extract", new StringContent("""{"path":["/files/raw/a.txt"]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);

        // One path= is the single-item export it always was: the folder under its name, the file raw.
        using var one = await _http.GetAsync("extract?path=/files/raw/data/notes.txt&format=raw");
        Assert.Equal("one\ntwo\nthree\n", await one.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AFormPastItsLimitsIsRefusedBeforeAnythingIsRead()
    {
        // More paths than one extract takes: refused, not walked.
        var tooMany = string.Join("&", Enumerable.Repeat("path=%2Fa", ExtractLimits.MaxPaths + 1));
        using var many = await _http.PostAsync("extract", new StringContent(tooMany, System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.Contains("at most", await many.Content.ReadAsStringAsync());

        // A body past 8 MiB: Kestrel stops reading it with 413 and closes the connection, which the
        // client, still sending, may see as a broken pipe instead of the answer.
        var huge = "path=" + new string('a', 9 << 20);
        try
        {
            using var big = await _http.PostAsync("extract", new StringContent(huge, System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        }
        catch (HttpRequestException ex) when (ex.InnerException is IOException) { }

        // The agent still answers.
        var (status, _) = await _http.GetJson("status");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    /// <summary>The agent's form limits (ExtractRequest), as this test sends past them.</summary>
    private static class ExtractLimits
    {
        public const int MaxPaths = 65_536;
    }

    [Fact]
    public async Task IncludeAndExcludeFilterTheWalk()
    {
        using var r = await _http.GetAsync("extract?path=/files/raw&format=tar&include=*.txt&include=*.MD&exclude=leaf*", HttpCompletionOption.ResponseHeadersRead);
        string tar = await Save(r, "filtered.tar");
        var files = Listing(tar).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => !n.EndsWith('/')).ToArray();
        Assert.Equal(["a.txt", "data/notes.txt", "docs/readme.md"], files);
        Assert.Contains("many/", Listing(tar)); // folders are walked and kept
    }

    [Fact]
    public void TheClientSendsSeveralPathsAndTheyLandInOneArchive()
    {
        // 3,000 paths: more than a request line or the agent's 64 KiB body for small calls would take.
        var many = Enumerable.Range(1, 3000).Select(i => $"/files/raw/many/f{i:000000}").ToList();
        string file = Path.Combine(_dir, "client.zip");
        ExportResult result;
        using (var fs = File.Create(file))
            result = _client.Export([.. many, "/files/raw/data/big.bin"], fs, new ExportOptions(ExportFormat.Zip));
        Assert.Empty(result.Errors);
        Assert.Equal(3001, result.Files);
        using var zip = System.IO.Compression.ZipFile.OpenRead(file);
        Assert.Equal(3001, zip.Entries.Count);
        string big = Path.Combine(_dir, "big.bin");
        zip.GetEntry("big.bin")!.ExtractToFile(big);
        Assert.Equal(Shell.Sha256(f.Images.BigFile), Shell.Sha256(big));

        var clash = Assert.Throws<RestoreException>(() => _client.Export(["/gpt/part/1/one.txt", "/gpt/part/1/one.txt"], new MemoryStream(), new ExportOptions(ExportFormat.Tar)));
        Assert.Equal(RestoreErrorCode.NameInUse, clash.Code);
        Assert.Equal(RestoreErrorCode.NotSupported, Assert.Throws<RestoreException>(() =>
            _client.Export(["/files/raw/a.txt", "/gpt/part/1/one.txt"], new MemoryStream(), new ExportOptions(ExportFormat.Raw))).Code);
    }

    [Fact]
    public void TheClientsCopyTakesFiltersAndFlattens()
    {
        string dest = Path.Combine(_dir, "flat");
        var result = _client.Copy("/files/raw/data", dest, new CopyOptions { Container = false, Include = ["*.txt"] });
        Assert.Empty(result.Errors);
        Assert.Empty(Directory.EnumerateDirectories(dest));
        Assert.Equal(["leaf.txt", "notes.txt"], Directory.EnumerateFiles(dest).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("leaf", File.ReadAllText(Path.Combine(dest, "leaf.txt")));

        string tree = Path.Combine(_dir, "tree");
        Directory.CreateDirectory(tree);
        _client.Copy("/files/raw/data", tree, new CopyOptions { Exclude = ["*.bin", "notes*"] });
        Assert.Equal("./data/deep/er/leaf.txt\n./data/link\n", Shell.Run($"cd '{tree}' && find . -not -type d | sort"));
    }
}
