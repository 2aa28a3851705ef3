using System.Net.Sockets;
using System.Text;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Agent;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// A hostile agent: a fake server on a real Unix socket answers AgentClient's downloads with broken
/// framing. Each must end in a clear error, with nothing written past what the answer and the caller
/// allowed, into every kind of destination (splice into a file or pipe, copy into the rest), and the
/// destination's own bytes left alone.
/// </summary>
public sealed class HostileDownloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static byte[] Data(int n)
    {
        var b = new byte[n];
        new Random(n).NextBytes(b);
        return b;
    }

    private static byte[] Cat(params object[] parts) =>
        [.. parts.SelectMany(p => p is string s ? Encoding.ASCII.GetBytes(s) : (byte[])p)];

    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

    /// <summary>One raw extract from a fake agent that sends answer (then closes) into a destination of the kind.</summary>
    private (byte[] Written, Exception? Error) Export(string kind, byte[] answer, long? space = null)
    {
        using var fake = new ScriptedAgent(_dir, answer);
        using var client = new AgentClient("unix:" + fake.Socket, "token");
        return Destinations.Capture(kind, s => client.Export("/d/raw/f.bin", s, new ExportOptions(ExportFormat.Raw) { SpaceAvailable = space }));
    }

    private (byte[] Written, Exception? Error) Content(string kind, byte[] answer, long offset = 0, long? length = null)
    {
        using var fake = new ScriptedAgent(_dir, answer);
        using var client = new AgentClient("unix:" + fake.Socket, "token");
        return Destinations.Capture(kind, s =>
        {
            using var r = client.OpenRead("/d/raw/f.bin", offset, length);
            r.CopyTo(s);
        });
    }

    private static void BadAnswer(Exception? error, string words)
    {
        var ex = Assert.IsType<AgentException>(error);
        Assert.Equal("BadAnswer", ex.Code);
        Assert.Contains(words, ex.Message);
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void AWellFormedAnswerOfSeveralChunksArrivesWhole(string kind)
    {
        // The control: the fake's framing is right, so the checks below fail for their reason only.
        byte[] a = Data(3 << 20), b = Data(100_000);
        var (written, error) = Export(kind, Cat(Ok, $"{a.Length:x}\r\n", a, "\r\n", $"{b.Length:x};ext=1\r\n", b, "\r\n0\r\n\r\n"));
        Assert.Null(error);
        Assert.Equal(Destinations.Sha(Cat(a, b)), Destinations.Sha(written));
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void AMalformedChunkHeaderIsRefused(string kind)
    {
        byte[] a = Data(70_000);
        var (written, error) = Export(kind, Cat(Ok, $"{a.Length:x}\r\n", a, "\r\nzz\r\n", a, "\r\n0\r\n\r\n"));
        BadAnswer(error, "chunk size line 'zz'");
        Assert.Equal(Destinations.Sha(a), Destinations.Sha(written));

        (written, error) = Export(kind, Cat(Ok, "-10\r\n", a, "\r\n0\r\n\r\n"));
        BadAnswer(error, "chunk size line");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat(Ok, "1000000000000000000\r\n", a));   // more than 15 hex digits
        BadAnswer(error, "chunk size line");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat(Ok, "10\n", a));   // LF without CR
        BadAnswer(error, "LF without CR");
        Assert.Empty(written);
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void AChunkLongerThanItsSizeLineIsRefusedAfterItsDeclaredBytes(string kind)
    {
        // The size line says 1 MiB + 1; 2 MiB follow: exactly the declared bytes are written, then the error.
        byte[] a = Data(2 << 20);
        int declared = (1 << 20) + 1;
        var (written, error) = Export(kind, Cat(Ok, $"{declared:x}\r\n", a, "\r\n0\r\n\r\n"));
        BadAnswer(error, "not followed by CRLF");
        Assert.Equal(Destinations.Sha(a.AsSpan(0, declared)), Destinations.Sha(written));
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void AChunkBeyondWhatWasAnnouncedOrAllowedIsRefusedBeforeAnyByteOfIt(string kind)
    {
        byte[] a = Data(1 << 20);
        // Content-Range announces 1,000 bytes; the chunk says 1 MiB.
        var (written, error) = Content(kind, Cat("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-1004/2000000\r\nTransfer-Encoding: chunked\r\n\r\n",
            $"{a.Length:x}\r\n", a, "\r\n0\r\n\r\n"), offset: 5);
        BadAnswer(error, "passes the 1,000 bytes the answer announced");
        Assert.Empty(written);

        // The caller asked for 1,000 bytes, the answer's range claims a million.
        (written, error) = Content(kind, Cat("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-1000004/2000000\r\nTransfer-Encoding: chunked\r\n\r\n",
            $"{a.Length:x}\r\n", a, "\r\n0\r\n\r\n"), offset: 5, length: 1000);
        BadAnswer(error, "where 1,000 were asked for");
        Assert.Empty(written);

        // A raw extract passing the free space named: the engine's error, nothing written.
        (written, error) = Export(kind, Cat(Ok, $"{a.Length:x}\r\n", a, "\r\n0\r\n\r\n"), space: 4096);
        Assert.Equal(RestoreErrorCode.WriteFailed, Assert.IsType<RestoreException>(error).Code);
        Assert.Empty(written);

        // A range that starts elsewhere than asked.
        (written, error) = Content(kind, Cat("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-999/2000000\r\nTransfer-Encoding: chunked\r\n\r\n",
            "3e8\r\n", a.AsSpan(0, 1000).ToArray(), "\r\n0\r\n\r\n"), offset: 5);
        BadAnswer(error, "bytes from 5 were asked for");
        Assert.Empty(written);
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void ATruncatedBodyIsAnErrorWithOnlyWhatCameWritten(string kind)
    {
        byte[] a = Data(300_000);
        var (written, error) = Export(kind, Cat(Ok, $"{1 << 20:x}\r\n", a));   // 1 MiB announced, 300,000 bytes, then the close
        Assert.Contains("cut off", Assert.IsAssignableFrom<IOException>(error).Message);
        Assert.Equal(Destinations.Sha(a), Destinations.Sha(written));

        // Whole chunks, but no last chunk.
        (written, error) = Export(kind, Cat(Ok, $"{a.Length:x}\r\n", a, "\r\n"));
        Assert.Contains("cut off", Assert.IsAssignableFrom<IOException>(error).Message);
        Assert.Equal(Destinations.Sha(a), Destinations.Sha(written));

        // A range whose chunks end before what its Content-Range announced.
        (written, error) = Content(kind, Cat("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-399999/2000000\r\nTransfer-Encoding: chunked\r\n\r\n",
            $"{a.Length:x}\r\n", a, "\r\n0\r\n\r\n"), offset: 0, length: 400_000);
        Assert.Contains("ended after 300,000 of the 400,000 bytes", Assert.IsAssignableFrom<IOException>(error).Message);
        Assert.Equal(Destinations.Sha(a), Destinations.Sha(written));
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void ABodyLongerThanItsContentLengthIsRefusedAfterItsDeclaredBytes(string kind)
    {
        byte[] a = Data(200_000);
        var (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\nContent-Length: 150000\r\n\r\n", a));
        BadAnswer(error, "bytes follow the end of the answer's body");
        Assert.Equal(Destinations.Sha(a.AsSpan(0, 150_000)), Destinations.Sha(written));

        // And after the last chunk.
        (written, error) = Export(kind, Cat(Ok, $"{a.Length:x}\r\n", a, "\r\n0\r\n\r\nmore"));
        BadAnswer(error, "follow the end of the answer's body");
        Assert.Equal(Destinations.Sha(a), Destinations.Sha(written));
    }

    [Theory]
    [MemberData(nameof(Destinations.Kinds), MemberType = typeof(Destinations))]
    public void SmuggledFramingIsRefused(string kind)
    {
        byte[] a = Data(1000);
        var (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nTransfer-Encoding: chunked\r\n\r\n", "3e8\r\n", a, "\r\n0\r\n\r\n"));
        BadAnswer(error, "both Content-Length and chunked");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Length: 10\r\n\r\n", a));
        BadAnswer(error, "two Content-Length headers");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "3e8\r\n", a, "\r\n0\r\n\r\n"));
        BadAnswer(error, "Transfer-Encoding");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\n\r\n", a));
        BadAnswer(error, "neither Content-Length nor chunked");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\nX: " + new string('a', 20_000) + "\r\n\r\n", a));
        BadAnswer(error, "head passes");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat("garbage\r\n\r\n", a));
        BadAnswer(error, "status line 'garbage'");
        Assert.Empty(written);

        (written, error) = Export(kind, Cat("HTTP/1.1 200 OK\r\nContent-"));   // closed inside the head
        Assert.IsAssignableFrom<IOException>(error);
        Assert.Empty(written);
    }

    [Fact]
    public void AnErrorAnswerIsTheEngineErrorItNames()
    {
        string json = """{"code":"ItemNotFound","message":"'/d/raw/f.bin' does not exist","target":"/d/raw/f.bin"}""";
        var (written, error) = Export("file", Cat($"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {json.Length}\r\n\r\n{json}"));
        var ex = Assert.IsType<RestoreException>(error);
        Assert.Equal(RestoreErrorCode.ItemNotFound, ex.Code);
        Assert.Contains("does not exist", ex.Message);
        Assert.Empty(written);

        // One that is not JSON, chunked, and endless: 64 KiB of it are read, no more.
        (written, error) = Export("file", Cat("HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n", "100000\r\n", Data(1 << 20), "\r\n0\r\n\r\n"));
        Assert.Equal(500, Assert.IsType<AgentException>(error).StatusCode);
        Assert.Empty(written);
    }

    [Fact]
    public void NoAgentIsUnreachableAsThroughHttpClient()
    {
        using var client = new AgentClient("unix:" + Path.Combine(_dir, "none.sock"), "token");
        Assert.Throws<HttpRequestException>(() => client.OpenRead("/d/raw/f.bin"));
        Assert.Throws<HttpRequestException>(() => client.Export("/d/raw/f.bin", Stream.Null, new ExportOptions(ExportFormat.Raw)));
    }

    /// <summary>
    /// A server on a Unix socket that answers every connection with the same bytes, then closes it
    /// (FakeAgent answers with well-formed framing only); it reads the request's head first, so the
    /// client's send never meets a closed socket.
    /// </summary>
    private sealed class ScriptedAgent : IDisposable
    {
        private readonly System.Net.Sockets.Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly Thread _thread;
        public string Socket { get; }
        public List<string> Requests { get; } = [];

        public ScriptedAgent(string dir, byte[] answer)
        {
            Socket = Path.Combine(dir, $"fake-{Guid.NewGuid():N}.sock");
            _listener.Bind(new UnixDomainSocketEndPoint(Socket));
            _listener.Listen(4);
            _thread = new Thread(() =>
            {
                while (true)
                {
                    System.Net.Sockets.Socket c;
                    try { c = _listener.Accept(); }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                    using (c)
                    {
                        try
                        {
                            var head = new List<byte>();
                            var one = new byte[1];
                            while (!head.AsEnumerable().Reverse().Take(4).SequenceEqual("\n\r\n\r"u8.ToArray()) && c.Receive(one) == 1) head.Add(one[0]);
                            lock (Requests) Requests.Add(Encoding.ASCII.GetString(head.ToArray()));
                            c.Send(answer);
                            c.Shutdown(SocketShutdown.Send);
                        }
                        catch (SocketException) { }   // the client gave up first: what these tests provoke
                    }
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Dispose()
        {
            _listener.Dispose();
            _thread.Join(5000);
        }
    }
}
