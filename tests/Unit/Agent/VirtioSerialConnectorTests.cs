using System.Buffers.Binary;
using System.Net.Sockets;
using RestoreTools.Contract;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// The host's side of the virtio-serial transport against real Unix sockets standing in for qemu's
/// port chardevs: each connection opens with a nonce and takes only the records after the agent's
/// echo of it (the rest of an earlier connection's answer is dropped), the end frame as the end of
/// the stream, hostile frames refused, one connection per port (a busy port is passed over); and
/// the agent's parser of the host's records.
/// </summary>
public sealed class VirtioSerialConnectorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-vport-").FullName;
    private readonly List<Socket> _listeners = [];

    public void Dispose()
    {
        foreach (var l in _listeners) l.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Socket Port(int n)
    {
        var l = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        l.Bind(new UnixDomainSocketEndPoint(VirtioSerialConnector.SocketPath(_dir, n)));
        l.Listen(4);
        _listeners.Add(l);
        return l;
    }

    private static byte[] Frame(byte[] payload)
    {
        var f = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)payload.Length);
        payload.CopyTo(f, 4);
        return f;
    }

    private static byte[] OpenRecord(ulong nonce)
    {
        var r = new byte[VirtioSerialFraming.OpenSize];
        VirtioSerialFraming.WriteOpen(r, nonce);
        return r;
    }

    private static async Task<byte[]> ReceiveExactly(Socket guest, int count)
    {
        var b = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = await guest.ReceiveAsync(b.AsMemory(got));
            if (n == 0) throw new EndOfStreamException($"the host sent {got} of {count} bytes");
            got += n;
        }
        return b;
    }

    /// <summary>Accepts the host's connection as the agent would: reads its Open, and returns the nonce.</summary>
    private static async Task<(Socket Guest, ulong Nonce)> AcceptOpen(Socket port)
    {
        var guest = await port.AcceptAsync();
        var open = await ReceiveExactly(guest, VirtioSerialFraming.OpenSize);
        Assert.Equal(VirtioSerialFraming.Open, BinaryPrimitives.ReadUInt32LittleEndian(open));
        return (guest, BinaryPrimitives.ReadUInt64LittleEndian(open.AsSpan(4)));
    }

    [Fact]
    public async Task OpensWithANonceAndUnwrapsOnlyTheRecordsAfterItsEcho()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        var (guest, nonce) = await AcceptOpen(port);
        using var _ = guest;
        stream.Write("GET / HTTP/1.1\r\n\r\n"u8);
        var got = await ReceiveExactly(guest, 4 + 18);
        Assert.Equal(Frame("GET / HTTP/1.1\r\n\r\n"u8.ToArray()), got);   // the host's bytes go as a record

        // The rest of an earlier connection's answer, its End, and another connection's Open: all dropped.
        await guest.SendAsync(Frame("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"u8.ToArray()));
        await guest.SendAsync(new byte[4]);
        await guest.SendAsync(OpenRecord(nonce ^ 0x10));
        await guest.SendAsync(Frame("stale"u8.ToArray()));
        await guest.SendAsync(OpenRecord(nonce));
        var big = new byte[VirtioSerialFraming.MaxPayload];
        Random.Shared.NextBytes(big);
        await guest.SendAsync(Frame("hello "u8.ToArray()));
        await guest.SendAsync(Frame(big));
        await guest.SendAsync(Frame("world"u8.ToArray()));
        await guest.SendAsync(new byte[4]);   // end frame
        await guest.SendAsync(Frame("after the end"u8.ToArray()));
        var read = new MemoryStream();
        await stream.CopyToAsync(read);
        Assert.Equal("hello "u8.ToArray().Concat(big).Concat("world"u8.ToArray()).ToArray(), read.ToArray());
        Assert.Equal(0, stream.Read(new byte[10]));
    }

    [Fact]
    public async Task WritesLongerThanOneRecordGoInSeveral()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        var (guest, _) = await AcceptOpen(port);
        using var g = guest;
        var data = new byte[VirtioSerialFraming.MaxPayload * 2 + 100];
        Random.Shared.NextBytes(data);
        var send = stream.WriteAsync(data).AsTask();
        var parser = new VirtioSerialFrameParser();
        var got = new MemoryStream();
        var buffer = new byte[4096];
        while (got.Length < data.Length)
        {
            int n = await guest.ReceiveAsync(buffer);
            Assert.True(n > 0);
            parser.Feed(buffer.AsSpan(0, n), _ => Assert.Fail("no Open after the first"), b => got.Write(b), w => Assert.Fail(w));
        }
        await send;
        Assert.Equal(data, got.ToArray());
    }

    [Fact]
    public async Task RefusesAFrameLongerThanOnePortWrite()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        var (guest, _) = await AcceptOpen(port);
        using var g = guest;
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(header, VirtioSerialFraming.MaxPayload + 1);
        await guest.SendAsync(header);
        var ex = await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[16]).AsTask());
        Assert.Contains("frame of", ex.Message);
    }

    [Fact]
    public async Task ASecondOpenIsAnError()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        var (guest, nonce) = await AcceptOpen(port);
        using var g = guest;
        await guest.SendAsync(OpenRecord(nonce));
        await guest.SendAsync(OpenRecord(nonce));
        await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[16]).AsTask());
    }

    [Fact]
    public async Task AFrameCutOffIsAnError()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        var (guest, nonce) = await AcceptOpen(port);
        using (guest)
        {
            await guest.SendAsync(OpenRecord(nonce));
            var f = Frame(new byte[100]);
            await guest.SendAsync(f.AsMemory(0, 50));
        }
        var buffer = new byte[200];
        await Assert.ThrowsAsync<IOException>(async () => { while (await stream.ReadAsync(buffer) > 0) { } });
    }

    [Fact]
    public async Task EachConnectionTakesAPortOfItsOwnAndAClosedOneIsFreeAtOnceWithANewNonce()
    {
        var p0 = Port(0);
        Port(1);
        var connector = new VirtioSerialConnector(_dir);
        var a = await connector.ConnectAsync(CancellationToken.None);
        var (guestA, nonceA) = await AcceptOpen(p0);
        var b = await connector.ConnectAsync(CancellationToken.None);
        // Both ports are taken: a third connection waits.
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connector.ConnectAsync(cts.Token).AsTask());
        // Another process (or FileStream) sees the locks too.
        Assert.Throws<IOException>(() => new FileStream(VirtioSerialConnector.LockPath(_dir, 0), FileMode.Open, FileAccess.ReadWrite, FileShare.None));
        a.Dispose();
        guestA.Dispose();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await using var c = await connector.ConnectAsync(cts.Token);
            var (guestC, nonceC) = await AcceptOpen(p0);
            using var _ = guestC;
            Assert.NotEqual(nonceA, nonceC);
        }
        b.Dispose();
    }

    // ---- the agent's parser of what the host sends ----

    private static List<string> Parse(VirtioSerialFrameParser parser, byte[] bytes, int piece)
    {
        var events = new List<string>();
        var data = new MemoryStream();
        void Flush() { if (data.Length > 0) { events.Add("data:" + System.Text.Encoding.ASCII.GetString(data.ToArray())); data.SetLength(0); } }
        for (int i = 0; i < bytes.Length; i += piece)
            parser.Feed(bytes.AsSpan(i, Math.Min(piece, bytes.Length - i)),
                n => { Flush(); events.Add($"open:{n:x}"); }, b => data.Write(b), w => { Flush(); events.Add("broken:" + w); });
        Flush();
        return events;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(4096)]
    public void TheParserFindsOpensAndRecordsHoweverTheBytesArePieced(int piece)
    {
        byte[] stream = [.. OpenRecord(0xabc), .. Frame("GET /a"u8.ToArray()), .. Frame(" HTTP/1.1"u8.ToArray()),
            .. OpenRecord(0xdef), .. Frame("GET /b"u8.ToArray())];
        Assert.Equal(["open:abc", "data:GET /a HTTP/1.1", "open:def", "data:GET /b"], Parse(new VirtioSerialFrameParser(), stream, piece));
    }

    [Fact]
    public void TheParserStopsAtWhatIsNoRecordUntilReset()
    {
        var parser = new VirtioSerialFrameParser();
        var huge = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(huge, VirtioSerialFraming.MaxPayload + 1);
        byte[] stream = [.. OpenRecord(1), .. huge, .. Frame("lost"u8.ToArray()), .. OpenRecord(2)];
        Assert.Equal(["open:1", $"broken:a record of {VirtioSerialFraming.MaxPayload + 1} bytes (at most {VirtioSerialFraming.MaxPayload})"], Parse(parser, stream, 7));
        Assert.True(parser.Broken);
        Assert.Empty(Parse(parser, OpenRecord(3), 100));
        parser.Reset();
        Assert.Equal(["open:3", "broken:an empty record"], Parse(parser, [.. OpenRecord(3), 0, 0, 0, 0], 100));
    }
}
