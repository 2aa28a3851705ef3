using System.Globalization;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Native;

namespace RestoreTools.Agent.Http;

/// <summary>
/// A chunked answer body written into the connection's socket itself (DirectSocket), for the long
/// downloads: each chunk is one sendmsg of its size line, data and CRLF, and a file's bytes (content,
/// raw extract) are one chunk sent by sendfile. Kestrel's path costs a copy into its pipe, a thread hop
/// per flush and its own chunk framing; this one costs the send. Kestrel sends the headers (on the
/// first chunk: until then an error is still a JSON answer) and, after the endpoint returns, the
/// last chunk, so the answer stays valid HTTP/1.1 for any client.
/// </summary>
public sealed class DirectChunkedBody : Stream, IFileOutput
{
    private const int Size = 64 * 1024;
    private const int SendBuffer = 1 << 20;
    private readonly HttpContext _context;
    private readonly DirectSocket _socket;
    private readonly CancellationToken _ct;
    private readonly byte[] _buffer = new byte[Size];
    private readonly byte[] _line = new byte[24];
    private int _length;
    private bool _started;
    private long _sent;

    private DirectChunkedBody(HttpContext context, DirectSocket socket, CancellationToken ct)
    {
        _context = context;
        _socket = socket;
        _ct = ct;
    }

    /// <summary>
    /// The direct body when the connection offers its socket and the answer will be chunked (HTTP/1.1,
    /// no Content-Length); null otherwise: then the answer goes through Kestrel as usual.
    /// </summary>
    public static DirectChunkedBody? TryCreate(HttpContext context, CancellationToken ct)
    {
        if (context.Features.Get<DirectSocket>() is not { } socket) return null;
        if (!HttpProtocol.IsHttp11(context.Request.Protocol) || context.Response.ContentLength is not null) return null;
        return new DirectChunkedBody(context, socket, ct);
    }

    /// <summary>Body bytes sent (chunk framing not counted), for the request log.</summary>
    public long Sent => _sent;

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_length == 0 && data.Length >= Size)
            {
                SendChunk(data);   // a full buffer's worth from the caller's own buffer: no copy
                return;
            }
            int n = Math.Min(data.Length, Size - _length);
            data[..n].CopyTo(_buffer.AsSpan(_length));
            _length += n;
            data = data[n..];
            if (_length == Size) Flush();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
        if (_length == 0) return;
        SendChunk(_buffer.AsSpan(0, _length));
        _length = 0;
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    /// <summary>A file's bytes as one chunk, by sendfile; false for a stream sendfile cannot read (the caller copies it through Write).</summary>
    public bool TryWriteFile(Stream file, long offset, long length)
    {
        if (!SocketSend.CanSendFile(file)) return false;
        Flush();
        if (length == 0) return true;
        Start();
        try
        {
            SocketSend.Write(_socket.Socket, SizeLine(length), default, default, _ct);
            SocketSend.SendFile(_socket.Socket, file, offset, length, _ct);
            SocketSend.Write(_socket.Socket, "\r\n"u8, default, default, _ct);
        }
        catch (NativeException ex) when (IsPeerGone(ex)) { throw PeerGone(); }
        _sent += length;
        return true;
    }

    private void SendChunk(ReadOnlySpan<byte> data)
    {
        Start();
        try { SocketSend.Write(_socket.Socket, SizeLine(data.Length), data, "\r\n"u8, _ct); }
        catch (NativeException ex) when (IsPeerGone(ex)) { throw PeerGone(); }
        _sent += data.Length;
    }

    // EPIPE, ECONNRESET: the client went away. Kestrel has not seen it yet (it is not reading):
    // end the request as aborted, so it is logged as "client gone" and not as an engine error.
    private static bool IsPeerGone(NativeException ex) => ex.Errno is 32 or 104;

    private ClientGoneException PeerGone()
    {
        _context.Abort();
        return new ClientGoneException();
    }

    private ReadOnlySpan<byte> SizeLine(long size)
    {
        size.TryFormat(_line, out int n, "x", CultureInfo.InvariantCulture);
        _line[n] = (byte)'\r';
        _line[n + 1] = (byte)'\n';
        return _line.AsSpan(0, n + 2);
    }

    /// <summary>Kestrel sends the status and headers (chunked), and they reach the socket before anything of ours.</summary>
    private void Start()
    {
        if (_started) return;
        var response = _context.Response;
        response.StartAsync(_ct).GetAwaiter().GetResult();
        if (!string.Equals(response.Headers.TransferEncoding.ToString(), "chunked", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("the answer is not chunked: it cannot be written into the socket directly");
        response.Body.FlushAsync(_ct).GetAwaiter().GetResult();
        // A long answer: a deeper socket buffer (the kernel caps it at net.core.wmem_max) means fewer
        // sends that find it full, fewer polls and wake-ups on both sides.
        try { _socket.Socket.SendBufferSize = SendBuffer; } catch (System.Net.Sockets.SocketException) { }
        _started = true;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>A direct write found the client gone: the request ends as aborted (ErrorMapping logs "client gone").</summary>
public sealed class ClientGoneException() : OperationCanceledException("the client closed the connection");
