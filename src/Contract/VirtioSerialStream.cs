using System.Buffers.Binary;
using System.Net.Sockets;

namespace RestoreTools.Contract;

/// <summary>
/// The host's end of one virtio-serial connection: qemu's Unix socket for the port, the agent's
/// frames unwrapped on reading (an end frame reads as the end of the stream), writes as they are.
/// Holds the port's lock while open and a little after: the guest must see this connection end
/// before the next one starts on the port (see VirtioSerialConnector).
/// </summary>
internal sealed class VirtioSerialStream(Socket socket, IDisposable portLock, TimeSpan release) : Stream
{
    private readonly NetworkStream _inner = new(socket, ownsSocket: true);
    private readonly byte[] _header = new byte[VirtioSerialFraming.HeaderSize];
    private int _remaining;
    private bool _end;
    private int _disposed;

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

    /// <summary>Reads frame headers until there are payload bytes to read; false at the end frame or when qemu closed the socket.</summary>
    private async ValueTask<bool> NextFrame(bool sync, CancellationToken ct = default)
    {
        while (_remaining == 0)
        {
            if (_end) return false;
            int got = 0;
            while (got < _header.Length)
            {
                int n = sync ? _inner.Read(_header, got, _header.Length - got) : await _inner.ReadAsync(_header.AsMemory(got), ct);
                if (n == 0)
                {
                    if (got == 0) { _end = true; return false; }   // qemu went away (the VM stopped)
                    throw new IOException("the restore VM's port closed in the middle of a frame header");
                }
                got += n;
            }
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(_header);
            if (length == VirtioSerialFraming.End) { _end = true; return false; }
            if (length > VirtioSerialFraming.MaxPayload)
                throw new IOException($"the restore VM's agent sent a frame of {length} bytes (at most {VirtioSerialFraming.MaxPayload})");
            _remaining = (int)length;
        }
        return true;
    }

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.WriteAsync(buffer, offset, count, ct);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _inner.WriteAsync(buffer, ct);
    public override void Flush() => _inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => _inner.FlushAsync(ct);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _inner.Dispose();
            // The port stays ours a moment longer: a guest busy sending the rest of an answer must notice
            // the disconnect before another connection on this port could receive those bytes.
            if (release <= TimeSpan.Zero) portLock.Dispose();
            else _ = Task.Delay(release).ContinueWith(_ => portLock.Dispose(), TaskScheduler.Default);
        }
        base.Dispose(disposing);
    }
}
