using System.Globalization;
using System.Net.Sockets;
using System.Text;
using RestoreTools.Engine.Native;

namespace RestoreTools.Contract;

/// <summary>
/// One GET on a connection of its own to the agent's Unix socket, its body read by us rather than by
/// HttpClient: the framing (status line, headers, chunk size lines) is parsed here from a small
/// buffer, and a chunk's payload goes from the socket to the caller's buffer in one recv, or, into a
/// file or pipe, by splice (SocketSplice) without passing through this process at all. The agent
/// sends a file as one chunk by sendfile, so a 1 GiB download is a few lines read and splices.
/// Everything is checked as hostile: a chunk is never taken past what the answer announced
/// (Content-Length, Content-Range) or what the caller allows, and a cut or malformed answer is an
/// error before any byte of the offending chunk reaches the destination.
/// </summary>
internal sealed class UnixDownload : Stream
{
    private const int HeadLimit = 16 * 1024, LineLimit = 1024, TrailerLimit = 64;
    /// <summary>Framing is read in small pieces, so little of a chunk's payload lands in our buffer.</summary>
    private const int FramingRead = 512;

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[HeadLimit];
    private int _start, _end;
    private ResponseHead _head = null!;
    private long _left;          // bytes of the current chunk (or of a Content-Length body) not yet given out
    private long _delivered;     // body bytes given out
    private long _max = long.MaxValue;   // what the body may hold at most
    private long? _exact;        // what it must hold, when announced
    private Func<long, Exception>? _tooLong;
    private bool _afterChunk, _done, _started, _toEof;

    private UnixDownload(Socket socket) => _socket = socket;

    public ResponseHead Head => _head;
    public int Status => _head.Status;
    /// <summary>Body bytes given out so far.</summary>
    public long Delivered => _delivered;

    /// <summary>Connects, sends GET target (path and query) with the token, and reads the answer's head.</summary>
    public static UnixDownload Open(string socketPath, string target, string? token, string? range, CancellationToken ct)
    {
        // The target is built from escaped parts; a space or control character would split the request line.
        if (target.Any(c => c is <= ' ' or >= (char)0x7F))
            throw new ArgumentException($"'{ResponseHead.Printable(target)}' is not an escaped request target", nameof(target));
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var download = new UnixDownload(socket);
        try
        {
            ct.ThrowIfCancellationRequested();
            // Synchronous: the socket stays blocking, so recv and splice wait in the kernel.
            try { socket.Connect(new UnixDomainSocketEndPoint(socketPath)); }
            catch (SocketException ex) { throw new HttpRequestException($"the agent at unix:{socketPath} is unreachable: {ex.Message}", ex); }
            using (ct.Register(download.Abort))
            {
                var request = new StringBuilder(256)
                    .Append("GET ").Append(target).Append(" HTTP/1.1\r\nHost: restore-agent\r\nConnection: close\r\n");
                if (token is not null) request.Append("Authorization: Bearer ").Append(token).Append("\r\n");
                if (range is not null) request.Append("Range: ").Append(range).Append("\r\n");
                request.Append("\r\n");
                try { socket.Send(Encoding.ASCII.GetBytes(request.ToString())); }
                catch (SocketException ex) { throw new IOException($"sending the request to the agent failed: {ex.Message}", ex); }
                download.ReadHead();
            }
            ct.ThrowIfCancellationRequested();
            return download;
        }
        catch (Exception ex) when (ex is SocketException or IOException && ct.IsCancellationRequested)
        {
            download.Dispose();
            throw new OperationCanceledException(ct);
        }
        catch
        {
            download.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The limits of the body: max bytes at most (tooLong makes the error for a chunk that would pass
    /// it), and exact bytes when the answer announced them (Content-Length or a Content-Range).
    /// </summary>
    public void Limit(long max, long? exact, Func<long, Exception> tooLong)
    {
        _max = Math.Min(_max, max);
        _exact = exact;
        _tooLong = tooLong;
        if (_head.ContentLength is { } cl && cl > _max) throw tooLong(cl);
    }

    /// <summary>Ends a blocked read or splice (cancellation): the socket is shut down.</summary>
    public void Abort()
    {
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
    }

    // ---- the body ----

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        if (destination.Length == 0) return 0;
        if (!NextPayload()) return 0;
        int want = (int)Math.Min(destination.Length, _left);
        int n;
        if (_start < _end)
        {
            n = Math.Min(want, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(destination);
            _start += n;
        }
        else
        {
            n = Receive(destination[..want]);
            if (n == 0)
            {
                if (!_toEof) throw CutOff();
                _left = 0;
                _done = true;
                return 0;
            }
        }
        Took(n);
        return n;
    }

    public override void CopyTo(Stream destination, int bufferSize) => Drain(destination, null, default);

    // The socket is blocking: the copy runs on a pool thread, spliced as CopyTo is.
    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) =>
        Task.Run(() => { Drain(destination, null, cancellationToken); }, cancellationToken);

    /// <summary>
    /// The whole body into destination: by splice when it is a file or a pipe, else copied; progress
    /// gets the running count. Returns the bytes written. Cancellation shuts the socket down.
    /// </summary>
    public long Drain(Stream destination, Action<long>? progress, CancellationToken ct)
    {
        if (!_head.Chunked && _head.ContentLength is null)
            throw ResponseHead.Bad("a download's answer has neither Content-Length nor chunked framing", Status);
        using var reg = ct.CanBeCanceled ? ct.Register(Abort) : default;
        try
        {
            using var splice = SocketSplice.TryCreate(_socket, destination);
            byte[]? copy = null;
            while (NextPayload())
            {
                long n;
                if (_start < _end)
                {
                    // Payload that came in with the framing: written as it is.
                    n = Math.Min(_left, _end - _start);
                    destination.Write(_buffer, _start, (int)n);
                    _start += (int)n;
                }
                else if (splice is not null)
                {
                    n = splice.Move(_left, ct);
                    if (n == 0) throw CutOff();
                }
                else
                {
                    copy ??= new byte[128 * 1024];
                    n = Receive(copy.AsSpan(0, (int)Math.Min(copy.Length, _left)));
                    if (n == 0) throw CutOff();
                    destination.Write(copy, 0, (int)n);
                }
                Took(n);
                progress?.Invoke(_delivered);
            }
            return _delivered;
        }
        catch (Exception ex) when (ex is IOException or SocketException && ct.IsCancellationRequested)
        {
            throw new OperationCanceledException("the download was cancelled", ex, ct);
        }
    }

    private void Took(long n)
    {
        _left -= n;
        _delivered += n;
        if (_left == 0 && _head.Chunked) _afterChunk = true;
    }

    /// <summary>True with _left > 0 when payload is next; false at the body's end (all checked).</summary>
    private bool NextPayload()
    {
        if (_left > 0) return true;
        if (_done) return false;
        if (!_head.Chunked)
        {
            // A Content-Length body is one run of bytes; without one (an error's answer), the body
            // runs to the close, read no further than the limit.
            if (!_started)
            {
                _started = true;
                if (_head.ContentLength is { } cl) _left = cl;
                else { _toEof = true; _left = _max == long.MaxValue ? long.MaxValue : _max - _delivered; }
                if (_left > 0) return true;
            }
            Finish();
            return false;
        }
        _started = true;
        if (_afterChunk)
        {
            Fill(2);
            if (_buffer[_start] != '\r' || _buffer[_start + 1] != '\n')
                throw ResponseHead.Bad("a chunk's data is not followed by CRLF (the chunk is longer than its size line)", Status);
            _start += 2;
            _afterChunk = false;
        }
        string line = ReadLine();
        long size = ChunkSize(line);
        if (size == 0)
        {
            for (int i = 0; ReadLine().Length != 0; i++)
                if (i == TrailerLimit) throw ResponseHead.Bad($"more than {TrailerLimit} trailer lines", Status);
            Finish();
            return false;
        }
        if (size > _max - _delivered) throw (_tooLong ?? TooLong)(_delivered + size);
        if (_exact is { } exact && size > exact - _delivered)
            throw ResponseHead.Bad($"a chunk of {size:N0} bytes passes the {exact:N0} bytes the answer announced ({_delivered:N0} given so far)", Status);
        _left = size;
        return true;
    }

    private Exception TooLong(long total) => ResponseHead.Bad($"the body passes {total:N0} bytes, more than the {_max:N0} allowed", Status);

    /// <summary>The body's end: what was announced was given whole, and nothing follows (the agent closes: Connection: close).</summary>
    private void Finish()
    {
        _done = true;
        if (_exact is { } exact && _delivered != exact)
            throw new IOException($"the agent's answer ended after {_delivered:N0} of the {exact:N0} bytes it announced");
        if (_start < _end) throw ResponseHead.Bad($"{_end - _start} bytes follow the end of the answer's body", Status);
        if (_head.Chunked || _head.ContentLength is not null)
        {
            // A short wait for the close: bytes instead of it mean a body longer than its framing said.
            _socket.ReceiveTimeout = 2000;
            Span<byte> one = stackalloc byte[1];
            int n;
            try { n = _socket.Receive(one); }
            catch (SocketException) { return; }   // timed out or reset: nothing more arrived
            if (n > 0) throw ResponseHead.Bad("bytes follow the end of the answer's body (longer than its framing said)", Status);
        }
    }

    /// <summary>A chunk size line: hex digits, then optionally ';' and extensions (ignored).</summary>
    internal static long ChunkSize(string line)
    {
        int semi = line.IndexOf(';');
        var hex = (semi < 0 ? line : line[..semi]).AsSpan().TrimEnd(" \t");
        if (hex.Length is 0 or > 15 || !long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long size))
            throw ResponseHead.Bad($"chunk size line '{ResponseHead.Printable(line)}'");
        return size;
    }

    private IOException CutOff() =>
        new($"the agent's answer was cut off after {_delivered:N0} bytes of its body" + (_left > 0 && _left != long.MaxValue && _head.Chunked ? $" ({_left:N0} more were announced by the chunk)" : ""));

    // ---- framing ----

    private void ReadHead()
    {
        var lines = new List<string>();
        int total = 0;
        while (true)
        {
            string line = ReadLine(HeadLimit - total);
            total += line.Length + 2;
            if (line.Length == 0)
            {
                if (lines.Count == 0) continue;   // a stray CRLF before the status line is tolerated (RFC 9112 2.2)
                break;
            }
            lines.Add(line);
            if (lines.Count > 200) throw ResponseHead.Bad("more than 200 header lines");
        }
        _head = ResponseHead.Parse(lines);
        if (_head.Status is < 200 or 204 or 304) throw ResponseHead.Bad($"status {_head.Status} for a download", _head.Status);
    }

    /// <summary>One CRLF-ended line (without it) from the buffer, reading the socket in small pieces.</summary>
    private string ReadLine(int limit = LineLimit)
    {
        int scanned = 0;
        while (true)
        {
            var have = _buffer.AsSpan(_start, _end - _start);
            int lf = have[scanned..].IndexOf((byte)'\n');
            if (lf >= 0)
            {
                lf += scanned;
                if (lf == 0 || have[lf - 1] != '\r') throw ResponseHead.Bad("a line ends in LF without CR", _head?.Status ?? 0);
                string line = Encoding.Latin1.GetString(have[..(lf - 1)]);
                _start += lf + 1;
                return line;
            }
            scanned = have.Length;
            if (have.Length >= limit) throw ResponseHead.Bad(_head is null ? $"its head passes {HeadLimit:N0} bytes" : $"a framing line passes {limit:N0} bytes", _head?.Status ?? 0);
            if (_start > 0)
            {
                have.CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            int n = Receive(_buffer.AsSpan(_end, Math.Min(FramingRead, _buffer.Length - _end)));
            if (n == 0)
                throw _head is null ? new IOException("the agent closed the connection before answering") : CutOff();
            _end += n;
        }
    }

    /// <summary>recv, its failures as the IOException a broken download is (as HttpClient's are).</summary>
    private int Receive(Span<byte> into)
    {
        try { return _socket.Receive(into); }
        catch (SocketException ex) { throw new IOException($"reading the agent's answer failed after {_delivered:N0} bytes of its body: {ex.Message}", ex); }
    }

    /// <summary>At least n bytes in the buffer (n small), or the answer was cut off.</summary>
    private void Fill(int n)
    {
        while (_end - _start < n)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            int got = Receive(_buffer.AsSpan(_end, Math.Min(FramingRead, _buffer.Length - _end)));
            if (got == 0) throw CutOff();
            _end += got;
        }
    }

    // ---- Stream ----

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _head.ContentLength ?? throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _socket.Dispose();
        base.Dispose(disposing);
    }
}
