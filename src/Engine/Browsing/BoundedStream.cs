namespace RestoreTools.Engine.Browsing;

/// <summary>At most Length bytes of an inner stream, from where it stands: an HTTP Range or -TotalCount.</summary>
internal sealed class BoundedStream : Stream
{
    private readonly Stream inner;
    private readonly long limit;
    private readonly long _start;
    private long _left;

    public BoundedStream(Stream inner, long limit)
    {
        this.inner = inner;
        this.limit = limit;
        _start = inner.Position;
        _left = limit;
    }

    public override int Read(Span<byte> buffer)
    {
        if (_left <= 0) return 0;
        if (buffer.Length > _left) buffer = buffer[..(int)_left];
        int n = inner.Read(buffer);
        _left -= n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_left <= 0) return 0;
        if (buffer.Length > _left) buffer = buffer[..(int)_left];
        int n = await inner.ReadAsync(buffer, ct);
        _left -= n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => Math.Min(limit, Math.Max(0, inner.Length - _start));
    public override long Position { get => limit - _left; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}
