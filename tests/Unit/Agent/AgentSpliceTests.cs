using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Native;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// Downloads through AgentClient on the agent's Unix socket, which reads them on connections of its
/// own and splices them into files and pipes (UnixDownload, SocketSplice): the real agent sending a
/// file larger than several sendfile calls and pipe rounds, and an archive of many chunks, into every
/// kind of destination, whole and in ranges, byte for byte; and a destination's own bytes before the
/// download left as they were.
/// </summary>
[Collection("Agent")]
public sealed class AgentSpliceTests(AgentFixture f)
{
    private const string Big = "/files/raw/data/big.bin";

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void RawExportIsTheFileInEveryDestination(string kind)
    {
        byte[] expected = File.ReadAllBytes(f.Images.BigFile);
        Assert.True(expected.Length > 4 * SocketSend.SendFileChunk, "the file must take several sendfile calls and pipe rounds");
        using var client = f.Agent.Client();
        var seen = new List<long>();
        ExportResult? result = null;
        var (written, error) = Destinations.Capture(kind, s =>
            result = client.Export(Big, s, new ExportOptions(ExportFormat.Raw) { SpaceAvailable = expected.Length }, new Progress(seen)));
        Assert.Null(error);
        Assert.Equal(expected.Length, result!.Bytes);
        Assert.Equal(Destinations.Sha(expected), Destinations.Sha(written));
        Assert.Equal(expected.Length, seen[^1]);
        Assert.True(seen.Count > 1, "progress is reported while the bytes arrive");
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public async Task ATarExportIsTheAgentsArchiveInEveryDestination(string kind)
    {
        // An archive comes as many 64 KiB chunks: framing and splices alternate. The same archive
        // through HttpClient is the reference (the agent writes a tree the same way every time).
        using var http = f.Agent.Http();
        byte[] expected = await http.GetByteArrayAsync("extract?path=/files/raw/data&format=tar");
        Assert.True(expected.Length > 16 * 65536);
        using var client = f.Agent.Client();
        ExportResult? result = null;
        var (written, error) = Destinations.Capture(kind, s => result = client.Export("/files/raw/data", s, new ExportOptions(ExportFormat.Tar)));
        Assert.Null(error);
        Assert.Equal(Destinations.Sha(expected), Destinations.Sha(written));
        Assert.Equal(expected.Length, result!.Bytes);
        Assert.True(result.Files > 0, "the counts come from the extract's report");
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void ContentAndRangesAreTheFileInEveryDestination(string kind)
    {
        byte[] expected = File.ReadAllBytes(f.Images.BigFile);
        using var client = f.Agent.Client();
        long chunk = SocketSend.SendFileChunk;
        foreach (var (offset, length) in new (long, long?)[]
                 { (0, null), (0, 1), (chunk - 7, chunk + 100), (3, 3 * chunk + 17), (expected.Length - 5000, null), (expected.Length - 10, 100) })
        {
            var (written, error) = Destinations.Capture(kind, s =>
            {
                using var r = client.OpenRead(Big, offset, length);
                r.CopyTo(s);
            });
            Assert.Null(error);
            long n = Math.Min(length ?? long.MaxValue, expected.Length - offset);
            Assert.Equal(Destinations.Sha(expected.AsSpan((int)offset, (int)n)), Destinations.Sha(written));
        }
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void ContentCopiedAsynchronouslyIsTheFile(string kind)
    {
        byte[] expected = File.ReadAllBytes(f.Images.BigFile);
        using var client = f.Agent.Client();
        var (written, error) = Destinations.Capture(kind, s =>
        {
            using var r = client.OpenRead(Big, 12345);
            r.CopyToAsync(s).GetAwaiter().GetResult();
        });
        Assert.Null(error);
        Assert.Equal(Destinations.Sha(expected.AsSpan(12345)), Destinations.Sha(written));
    }

    [Fact]
    public void ContentReadInSmallPiecesIsTheFile()
    {
        byte[] expected = File.ReadAllBytes(f.Images.BigFile);
        using var client = f.Agent.Client();
        using var r = client.OpenRead(Big, 1000, 300_000);
        var got = new MemoryStream();
        var buffer = new byte[4093];
        int n;
        while ((n = r.Read(buffer, 0, Random.Shared.Next(1, buffer.Length))) > 0) got.Write(buffer, 0, n);
        Assert.Equal(Destinations.Sha(expected.AsSpan(1000, 300_000)), Destinations.Sha(got.ToArray()));
        Assert.Equal(0, r.Read(buffer));
    }

    [Fact]
    public void PastTheEndIsEmptyAndAMissingFileIsTheEngineError()
    {
        using var client = f.Agent.Client();
        long size = new FileInfo(f.Images.BigFile).Length;
        using (var r = client.OpenRead(Big, size + 10))
            Assert.Equal(-1, r.ReadByte());
        var ex = Assert.Throws<RestoreException>(() => client.OpenRead("/files/raw/data/no-such.bin"));
        Assert.Equal(RestoreErrorCode.ItemNotFound, ex.Code);
        var (written, error) = Destinations.Capture("file", s => client.Export("/files/raw/data/no-such.bin", s, new ExportOptions(ExportFormat.Raw)));
        Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.IsType<RestoreException>(error).Code);
        Assert.Empty(written);
    }

    [Fact]
    public void ACancelledExportStops()
    {
        using var client = f.Agent.Client();
        using var cts = new CancellationTokenSource();
        var (written, error) = Destinations.Capture("file", s =>
            client.Export(Big, s, new ExportOptions(ExportFormat.Raw), new Progress(n => { if (n > 0) cts.Cancel(); }), cts.Token));
        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(written.Length < new FileInfo(f.Images.BigFile).Length);
        // The agent is still there for the next one.
        Assert.Equal(new FileInfo(f.Images.BigFile).Length, Destinations.Capture("pipe", s => client.Export(Big, s, new ExportOptions(ExportFormat.Raw))).Written.Length);
    }

    /// <summary>A synchronous IProgress (Progress&lt;T&gt; posts to the pool, too late for the asserts).</summary>
    private sealed class Progress(Action<long> seen) : IProgress<TransferProgress>
    {
        public Progress(List<long> list) : this(list.Add) { }
        public void Report(TransferProgress value) => seen(value.BytesDone);
    }
}
