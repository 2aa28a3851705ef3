using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace RestoreTools.Contract;

/// <summary>
/// The host's end of one virtio-serial connection over qemu's Unix socket for the port. It starts
/// with an Open record of its own nonce; on reading it drops every record until the agent's Open
/// with that nonce (what comes before is the rest of an earlier connection's answer), then unwraps
/// the agent's records (an End reads as the end of the stream). Writes go out as data records.
/// Holds the port's lock while open (see VirtioSerialConnector).
/// </summary>
internal sealed class VirtioSerialStream : Stream
{
    private readonly NetworkStream _inner;
    private readonly IDisposable _portLock;
    private readonly ulong _nonce;
    private readonly byte[] _header = new byte[VirtioSerialFraming.HeaderSize];
    private readonly byte[] _nonceBytes = new byte[VirtioSerialFraming.NonceSize];
    private bool _opened;   // the agent's Open with our nonce came: every record after it is ours
    private int _remaining;
    private bool _end;
    private int _disposed;

    private VirtioSerialStream(Socket socket, IDisposable portLock, ulong nonce)
    {
        _inner = new NetworkStream(socket, ownsSocket: true);
        _portLock = portLock;
        _nonce = nonce;
    }

    /// <summary>Sends the Open record on a connected port socket; the stream owns socket and lock from here.</summary>
    public static async ValueTask<VirtioSerialStream> OpenAsync(Socket socket, IDisposable portLock, CancellationToken ct)
    {
        // Tells connections apart, it is no secret: an agent could forge it, and is trusted no more for it.
        ulong nonce = (ulong)Random.Shared.NextInt64() | 1;
        var stream = new VirtioSerialStream(socket, portLock, nonce);
        try
        {
            var open = new byte[VirtioSerialFraming.OpenSize];
            VirtioSerialFraming.WriteOpen(open, nonce);
            await stream._inner.WriteAsync(open, ct);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0 || !NextFrame(sync: true).GetAwaiter().GetResult()) return 0;
        int n = _inner.Read(buffer[..Math.Min(buffer.Length, _remaining)]);
        return Took(n);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        // A zero-byte read (HttpClient's check that an idle connection still lives) waits for data without taking any.
        if (buffer.Length == 0) return _end || _remaining > 0 ? 0 : await _inner.ReadAsync(buffer, ct);
        if (!await NextFrame(sync: false, ct)) return 0;
        int n = await _inner.ReadAsync(buffer[..Math.Min(buffer.Length, _remaining)], ct);
        return Took(n);
    }

    private int Took(int n)
    {
        if (n == 0) throw new IOException("the restore VM's port closed in the middle of a frame");
        _remaining -= n;
        return n;
    }

    /// <summary>Reads records until there are payload bytes of ours to read; false at our End or when qemu closed the socket.</summary>
    private async ValueTask<bool> NextFrame(bool sync, CancellationToken ct = default)
    {
        while (_remaining == 0)
        {
            if (_end) return false;
            if (!await Fill(_header, sync, ct, atStart: true)) { _end = true; return false; }   // qemu went away (the VM stopped)
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(_header);
            if (length == VirtioSerialFraming.Open)
            {
                await Fill(_nonceBytes, sync, ct, atStart: false);
                if (_opened) throw new IOException("the restore VM's agent opened a connection twice");
                _opened = BinaryPrimitives.ReadUInt64LittleEndian(_nonceBytes) == _nonce;
                continue;
            }
            if (length > VirtioSerialFraming.MaxPayload)
                throw new IOException($"the restore VM's agent sent a frame of {length} bytes (at most {VirtioSerialFraming.MaxPayload})");
            if (!_opened)
            {
                await Skip((int)length, sync, ct);   // an earlier connection's answer, or its End
                continue;
            }
            if (length == VirtioSerialFraming.End) { _end = true; return false; }
            _remaining = (int)length;
        }
        return true;
    }

    /// <summary>Fills buffer; false when the socket ends before its first byte and atStart.</summary>
    private async ValueTask<bool> Fill(byte[] buffer, bool sync, CancellationToken ct, bool atStart)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = sync ? _inner.Read(buffer, got, buffer.Length - got) : await _inner.ReadAsync(buffer.AsMemory(got), ct);
            if (n == 0)
            {
                if (got == 0 && atStart) return false;
                throw new IOException("the restore VM's port closed in the middle of a frame header");
            }
            got += n;
        }
        return true;
    }

    private async ValueTask Skip(int length, bool sync, CancellationToken ct)
    {
        if (length == 0) return;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Min(length, 64 * 1024));
        try
        {
            while (length > 0)
            {
                int want = Math.Min(length, scratch.Length);
                int n = sync ? _inner.Read(scratch, 0, want) : await _inner.ReadAsync(scratch.AsMemory(0, want), ct);
                if (n == 0) throw new IOException("the restore VM's port closed in the middle of a frame");
                length -= n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(scratch); }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(VirtioSerialFraming.HeaderSize + Math.Min(buffer.Length, VirtioSerialFraming.MaxPayload));
        try
        {
            while (buffer.Length > 0)
            {
                int take = Math.Min(buffer.Length, VirtioSerialFraming.MaxPayload);
                VirtioSerialFraming.WriteHeader(frame, take);
                buffer[..take].CopyTo(frame.AsSpan(VirtioSerialFraming.HeaderSize));
                _inner.Write(frame, 0, VirtioSerialFraming.HeaderSize + take);
                buffer = buffer[take..];
            }
        }
        finally { ArrayPool<byte>.Shared.Return(frame); }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(VirtioSerialFraming.HeaderSize + Math.Min(buffer.Length, VirtioSerialFraming.MaxPayload));
        try
        {
            while (buffer.Length > 0)
            {
                int take = Math.Min(buffer.Length, VirtioSerialFraming.MaxPayload);
                VirtioSerialFraming.WriteHeader(frame, take);
                buffer.Span[..take].CopyTo(frame.AsSpan(VirtioSerialFraming.HeaderSize));
                await _inner.WriteAsync(frame.AsMemory(0, VirtioSerialFraming.HeaderSize + take), ct);
                buffer = buffer[take..];
            }
        }
        finally { ArrayPool<byte>.Shared.Return(frame); }
    }

    public override void Flush() => _inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => _inner.FlushAsync(ct);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _inner.Dispose();
            // Free at once: the next connection's Open tells the agent that this one is over, and
            // whatever it still sends for this one is dropped by the next before its own Open.
            _portLock.Dispose();
        }
        base.Dispose(disposing);
    }
}
