using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RestoreTools.Contract;

/// <summary>
/// AF_VSOCK sockets through libc (System.Net.Sockets refuses address families it does not know).
/// A connected socket is used as a plain blocking file descriptor: read(2) and write(2) through a FileStream.
/// </summary>
public static unsafe partial class VsockSocket
{
    private const int SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, SHUT_RDWR = 2, POLLIN = 1, EINTR = 4;

    [LibraryImport("libc", SetLastError = true)] private static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] private static partial int bind(int fd, byte* addr, int len);
    [LibraryImport("libc", SetLastError = true)] private static partial int listen(int fd, int backlog);
    [LibraryImport("libc", SetLastError = true)] private static partial int connect(int fd, byte* addr, int len);
    [LibraryImport("libc", SetLastError = true)] private static partial int accept4(int fd, byte* addr, int* len, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeout);
    [LibraryImport("libc", SetLastError = true)] private static partial int shutdown(int fd, int how);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    /// <summary>A bound, listening AF_VSOCK socket.</summary>
    public static int Listen(VsockEndPoint endPoint, int backlog)
    {
        int fd = Check(socket(VsockEndPoint.AddressFamilyValue, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket(AF_VSOCK)");
        var sa = endPoint.ToSockaddr();
        fixed (byte* p = sa)
        {
            if (bind(fd, p, sa.Length) < 0 || listen(fd, backlog) < 0)
            {
                int err = Marshal.GetLastPInvokeError();
                close(fd);
                throw new Win32Exception(err, $"listening on {endPoint}: {new Win32Exception(err).Message}");
            }
        }
        return fd;
    }

    /// <summary>Waits up to timeoutMs for a connection; -1 when none came.</summary>
    public static int Accept(int listenFd, int timeoutMs, out VsockEndPoint? remote)
    {
        remote = null;
        var pfd = new PollFd { Fd = listenFd, Events = POLLIN };
        int n = poll(&pfd, 1, timeoutMs);
        if (n <= 0) return -1;
        byte* sa = stackalloc byte[16];
        int len = 16;
        int fd = accept4(listenFd, sa, &len, SOCK_CLOEXEC);
        if (fd < 0)
        {
            int err = Marshal.GetLastPInvokeError();
            if (err == EINTR) return -1;
            throw new Win32Exception(err);
        }
        remote = VsockEndPoint.FromSockaddr(new ReadOnlySpan<byte>(sa, 16));
        return fd;
    }

    /// <summary>Connects to an agent listening on vsock; the stream owns the descriptor.</summary>
    public static Stream Connect(VsockEndPoint endPoint)
    {
        int fd = Check(socket(VsockEndPoint.AddressFamilyValue, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket(AF_VSOCK)");
        var sa = endPoint.ToSockaddr();
        fixed (byte* p = sa)
        {
            if (connect(fd, p, sa.Length) < 0)
            {
                int err = Marshal.GetLastPInvokeError();
                close(fd);
                throw new Win32Exception(err, $"connecting to {endPoint}: {new Win32Exception(err).Message}");
            }
        }
        return OpenStream(fd);
    }

    /// <summary>A connected descriptor as a Stream (blocking read/write; Dispose shuts down and closes it).</summary>
    public static Stream OpenStream(int fd) => new FdStream(fd);

    /// <summary>Wakes a thread blocked on the descriptor (close alone does not).</summary>
    public static void Shutdown(int fd) => shutdown(fd, SHUT_RDWR);

    public static void Close(int fd) => close(fd);

    private static int Check(int result, string what) =>
        result >= 0 ? result : throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{what}: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");

    private sealed class FdStream(int fd) : Stream
    {
        private readonly FileStream _inner = new(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
        private int _disposed;
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.ReadAsync(buffer, offset, count, ct);
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _inner.WriteAsync(buffer, ct);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.WriteAsync(buffer, offset, count, ct);
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                shutdown(fd, SHUT_RDWR);
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
