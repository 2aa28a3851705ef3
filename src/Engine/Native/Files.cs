using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>Opening files inside a mounted bucket.</summary>
public static unsafe class Files
{
    /// <summary>
    /// Opens a file read-only, never through a symlink as its last component (O_NOFOLLOW). The
    /// stream reads with pread and knows its length, so archiving a file costs open, pread and
    /// close: FileStream adds an flock pair, three fstat and two lseek per file (bench/).
    /// </summary>
    public static Stream OpenRead(string path, long? knownLength = null)
    {
        int fd = PathAt.Run(path, (dir, name) =>
        {
            int f;
            do { f = Libc.openat(dir, name, LibC.O_RDONLY | Sys.O_NOFOLLOW | LibC.O_CLOEXEC, 0); } while (f < 0 && Sys.Errno == Sys.EINTR);
            return f < 0 ? -Sys.Errno : f;
        });
        if (fd < 0) throw new NativeException("open", -fd, path);
        try
        {
            return new ReadOnlyFileStream(fd, knownLength ?? ReadOnlyFileStream.SizeOf(fd, path), path);
        }
        catch
        {
            Sys.Close(fd);
            throw;
        }
    }
}

/// <summary>A read-only, seekable view of an open file descriptor of known length.</summary>
internal sealed unsafe class ReadOnlyFileStream(int fd, long length, string path) : Stream
{
    private long _position;
    private bool _closed;

    /// <summary>The descriptor, for SocketSend's sendfile (which reads at its own offset, leaving Position alone).</summary>
    internal int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return fd;
        }
    }

    internal string Path => path;

    /// <summary>
    /// Asks the kernel to start reading the file now (POSIX_FADV_WILLNEED) and returns at once: the
    /// read-ahead window of an export (Export/ReadAhead) has many files' reads in flight together.
    /// Only advice: a failure changes nothing but the speed.
    /// </summary>
    internal void WillNeed()
    {
        if (!_closed && length > 0) Libc.posix_fadvise(fd, 0, length, Libc.POSIX_FADV_WILLNEED);
    }

    /// <summary>
    /// Whether the file's first byte is in the page cache: a one-byte preadv2 with RWF_NOWAIT, which
    /// fails (EAGAIN) rather than wait for the disk. False also where the filesystem cannot say.
    /// </summary>
    internal bool IsCached()
    {
        if (_closed || length == 0) return true;
        byte b;
        var iov = new iovec { iov_base = &b, iov_len = 1 };
        return Libc.preadv2(fd, &iov, 1, 0, Libc.RWF_NOWAIT) >= 0;
    }

    public static long SizeOf(int fd, string path)
    {
        stat st;
        if (Libc.fstat(fd, &st) != 0) throw new NativeException("fstat", Libc.Errno, path);
        return (long)st.st_size;
    }

    /// <summary>
    /// Where the file holds data, from SEEK_DATA/SEEK_HOLE: holes (a 1 TB sparse file in a few KB)
    /// are skipped by every copy and archive instead of being read as zeros. A filesystem without
    /// the calls reports the whole file as data, which is still right.
    /// </summary>
    public IReadOnlyList<(long Offset, long Length)> DataSegments()
    {
        var segments = new List<(long, long)>();
        long pos = 0;
        while (pos < length)
        {
            long data = Libc.lseek(fd, pos, 3 /* SEEK_DATA */);
            if (data < 0)
            {
                int e = Libc.Errno;
                if (e == Sys.ENXIO) break; // nothing but hole up to the end
                if (e == Sys.EINVAL) return [(0, length)];
                throw new NativeException("lseek(SEEK_DATA)", e, path);
            }
            if (data >= length) break;
            long hole = Libc.lseek(fd, data, 4 /* SEEK_HOLE */);
            if (hole < 0) throw new NativeException("lseek(SEEK_HOLE)", Libc.Errno, path);
            hole = Math.Min(hole, length);
            segments.Add((data, hole - data));
            pos = hole;
        }
        return segments;
    }

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (_position >= length || buffer.Length == 0) return 0;
        int want = (int)Math.Min(buffer.Length, length - _position);
        fixed (byte* p = buffer)
        {
            nint n;
            do { n = Libc.pread(fd, p, (nuint)want, _position); } while (n < 0 && Libc.Errno == 4 /* EINTR */);
            if (n < 0) throw new NativeException("read", Libc.Errno, path);
            _position += n;
            return (int)n;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override bool CanRead => !_closed;
    public override bool CanSeek => !_closed;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value)); }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (!_closed)
        {
            _closed = true;
            Sys.Close(fd);
        }
        base.Dispose(disposing);
    }
}
