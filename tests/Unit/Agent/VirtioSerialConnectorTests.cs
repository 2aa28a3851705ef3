using System.Buffers.Binary;
using System.Net.Sockets;
using RestoreTools.Contract;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// The host's side of the virtio-serial transport against real Unix sockets standing in for qemu's
/// port chardevs: the agent's frames unwrapped, the end frame as the end of the stream, hostile
/// frames refused, and one connection per port (a busy port is passed over).
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

    [Fact]
    public async Task UnwrapsFramesAndEndsAtTheEndFrame()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        using var guest = await port.AcceptAsync();
        stream.Write("GET / HTTP/1.1\r\n\r\n"u8);
        var got = new byte[64];
        int n = await guest.ReceiveAsync(got);
        Assert.Equal("GET / HTTP/1.1\r\n\r\n", System.Text.Encoding.ASCII.GetString(got, 0, n));   // the host's bytes go as they are

        var big = new byte[VirtioSerialFraming.MaxPayload];
        Random.Shared.NextBytes(big);
        await guest.SendAsync(Frame("hello "u8.ToArray()));
        await guest.SendAsync(Frame(big));
        await guest.SendAsync(Frame("world"u8.ToArray()));
        await guest.SendAsync(new byte[4]);   // end frame
        await guest.SendAsync(Frame("after the end"u8.ToArray()));
        var read = new MemoryStream();
        await stream.CopyToAsync(read);
        byte[] all = read.ToArray();
        Assert.Equal("hello "u8.ToArray().Concat(big).Concat("world"u8.ToArray()).ToArray(), all);
        Assert.Equal(0, stream.Read(new byte[10]));
    }

    [Fact]
    public async Task RefusesAFrameLongerThanOnePortWrite()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        using var guest = await port.AcceptAsync();
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(header, VirtioSerialFraming.MaxPayload + 1);
        await guest.SendAsync(header);
        var ex = await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[16]).AsTask());
        Assert.Contains("frame of", ex.Message);
    }

    [Fact]
    public async Task AFrameCutOffIsAnError()
    {
        var port = Port(0);
        await using var stream = await new VirtioSerialConnector(_dir).ConnectAsync(CancellationToken.None);
        using (var guest = await port.AcceptAsync())
        {
            var f = Frame(new byte[100]);
            await guest.SendAsync(f.AsMemory(0, 50));
        }
        var buffer = new byte[200];
        await Assert.ThrowsAsync<IOException>(async () => { while (await stream.ReadAsync(buffer) > 0) { } });
    }

    [Fact]
    public async Task EachConnectionTakesAPortOfItsOwnAndAClosedOneIsFreeAfterTheQuarantine()
    {
        Port(0);
        Port(1);
        var connector = new VirtioSerialConnector(_dir);
        var a = await connector.ConnectAsync(CancellationToken.None);
        var b = await connector.ConnectAsync(CancellationToken.None);
        // Both ports are taken: a third connection waits.
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connector.ConnectAsync(cts.Token).AsTask());
        // Another process (or FileStream) sees the locks too.
        Assert.Throws<IOException>(() => new FileStream(VirtioSerialConnector.LockPath(_dir, 0), FileMode.Open, FileAccess.ReadWrite, FileShare.None));
        a.Dispose();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await using var c = await connector.ConnectAsync(CancellationToken.None);
        Assert.True(sw.Elapsed >= VirtioSerialConnector.Quarantine * 0.8, $"the port was reused after {sw.Elapsed.TotalMilliseconds} ms");
        b.Dispose();
    }
}
