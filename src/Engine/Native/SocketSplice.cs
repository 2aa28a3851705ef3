using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RestoreTools.Engine.Native;

/// <summary>
/// Moving bytes from a connected socket into a file or a pipe with splice(2), without passing them
/// through this process: into a pipe directly, into a regular file through a pipe of our own. What
/// the socket holds is the agent's page-cache pages (it sends by sendfile), so a download into a pipe
/// costs no copy here at all. The caller says how many bytes to take (it parsed the framing): a splice
/// never asks the socket for more, so nothing past that count reaches the destination.
/// </summary>
public sealed unsafe partial class SocketSplice : IDisposable
{
    private const uint SPLICE_F_MOVE = 1, SPLICE_F_MORE = 4;
    private const int F_GETFL = 3, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, O_APPEND = 0x400, O_CLOEXEC = 0x80000;
    private const int EAGAIN = 11;
    private const short POLLIN = 1, POLLOUT = 4;
    private const uint S_IFMT = 0xF000, S_IFIFO = 0x1000, S_IFREG = 0x8000;
    /// <summary>Our own pipe's size for a file destination: one splice round moves up to this much.</summary>
    private const int PipeSize = 1 << 20;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", SetLastError = true)] private static partial nint splice(int fdIn, long* offIn, int fdOut, long* offOut, nuint len, uint flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int pipe2(int* fds, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int fcntl(int fd, int cmd, int arg);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeout);

    private readonly Socket _socket;
    private readonly Stream _destination;
    private readonly SafeHandle _target;
    private readonly FileStream? _file;   // a regular file: written at _offset, its Position kept in step
    private long _offset;
    private int _pipeRead = -1, _pipeWrite = -1, _pipeSize;

    private SocketSplice(Socket socket, Stream destination, SafeHandle target, FileStream? file)
    {
        _socket = socket;
        _destination = destination;
        _target = target;
        _file = file;
    }

    /// <summary>
    /// A splice from socket into destination when destination is a pipe or a regular file opened by
    /// a FileStream or PipeStream (flushed first); null for anything else (the caller copies).
    /// </summary>
    public static SocketSplice? TryCreate(Socket socket, Stream destination)
    {
        SafeHandle? handle = destination switch
        {
            FileStream fs => fs.SafeFileHandle,
            PipeStream ps => ps.SafePipeHandle,
            _ => null,
        };
        if (handle is null || handle.IsInvalid || handle.IsClosed || !destination.CanWrite) return null;
        int fd = (int)handle.DangerousGetHandle();
        Tmds.Linux.stat st;
        if (Libc.fstat(fd, &st) != 0) return null;
        uint type = (uint)st.st_mode & S_IFMT;
        if (type == S_IFIFO) return new SocketSplice(socket, destination, handle, null);
        // A file opened for append takes no splice at an offset (EINVAL): it is copied.
        if (type == S_IFREG && destination is FileStream file && file.CanSeek && (fcntl(fd, F_GETFL, 0) & O_APPEND) == 0)
            return new SocketSplice(socket, destination, handle, file) { _offset = file.Position };
        return null;
    }

    /// <summary>
    /// One round: up to count bytes taken from the socket and written into the destination; the number
    /// moved, 0 when the socket has ended. NativeException when the destination refuses. Blocks while
    /// the socket is empty (shut the socket down to give up); cancellation is seen between waits of a
    /// non-blocking one. What the caller wrote into the stream itself goes first (flushed), and a
    /// file's bytes land at its Position.
    /// </summary>
    public long Move(long count, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _destination.Flush();
        if (_file is not null) _offset = _file.Position;
        bool added = false, addedSocket = false;
        var socketHandle = _socket.SafeHandle;
        try
        {
            _target.DangerousAddRef(ref added);
            socketHandle.DangerousAddRef(ref addedSocket);
            int target = (int)_target.DangerousGetHandle(), socket = (int)socketHandle.DangerousGetHandle();
            if (_file is null) return FromSocket(socket, target, count, ct);
            OpenPipe();
            long n = FromSocket(socket, _pipeWrite, Math.Min(count, _pipeSize), ct);
            if (n > 0) Drain(target, n, ct);
            return n;
        }
        finally
        {
            if (addedSocket) socketHandle.DangerousRelease();
            if (added) _target.DangerousRelease();
        }
    }

    /// <summary>One splice from the socket into a pipe (the destination's or ours), waiting while either side is not ready; 0 at the socket's end.</summary>
    private static long FromSocket(int socket, int pipe, long count, CancellationToken ct)
    {
        while (true)
        {
            nint n = splice(socket, null, pipe, null, (nuint)Math.Min(count, int.MaxValue), SPLICE_F_MOVE | SPLICE_F_MORE);
            if (n >= 0) return n;
            int e = Marshal.GetLastPInvokeError();
            if (e == Sys.EINTR) continue;
            if (e != EAGAIN) throw new NativeException("splice", e);
            // A non-blocking socket or pipe: wait for data, then for room (each returns at once when ready).
            Wait(socket, POLLIN, ct);
            Wait(pipe, POLLOUT, ct);
        }
    }

    /// <summary>Our pipe's n bytes into the file at its offset; on a filesystem that takes no splice, copied through the stream.</summary>
    private void Drain(int target, long n, CancellationToken ct)
    {
        while (n > 0)
        {
            long offset = _offset;
            nint m = splice(_pipeRead, null, target, &offset, (nuint)n, SPLICE_F_MOVE | SPLICE_F_MORE);
            if (m > 0)
            {
                _offset = offset;
                _file!.Position = offset;
                n -= m;
                continue;
            }
            int e = m == 0 ? Sys.EIO : Marshal.GetLastPInvokeError();
            if (e == Sys.EINTR) continue;
            if (e == EAGAIN) { Wait(target, POLLOUT, ct); continue; }
            if (e is Sys.EINVAL or Sys.ENOSYS) { CopyOut(n); return; }
            throw new NativeException("splice", e, _file!.Name);
        }
    }

    /// <summary>What our pipe holds, read and written through the stream (a filesystem without splice_write).</summary>
    private void CopyOut(long n)
    {
        var buffer = new byte[(int)Math.Min(n, 128 * 1024)];
        while (n > 0)
        {
            nint got;
            fixed (byte* p = buffer) got = Libc.read(_pipeRead, p, (nuint)Math.Min(n, buffer.Length));
            if (got < 0 && Marshal.GetLastPInvokeError() == Sys.EINTR) continue;
            if (got <= 0) throw new NativeException("read", got == 0 ? Sys.EIO : Marshal.GetLastPInvokeError(), "pipe");
            _destination.Write(buffer, 0, (int)got);
            n -= got;
        }
        _offset = _file!.Position;
    }

    private void OpenPipe()
    {
        if (_pipeRead >= 0) return;
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw new NativeException("pipe2", Marshal.GetLastPInvokeError());
        _pipeRead = fds[0];
        _pipeWrite = fds[1];
        // A larger pipe: fewer rounds. The kernel may refuse (pipe-max-size, a user's quota): then its default.
        fcntl(_pipeWrite, F_SETPIPE_SZ, PipeSize);
        _pipeSize = Math.Max(4096, fcntl(_pipeWrite, F_GETPIPE_SZ, 0));
    }

    private static void Wait(int fd, short events, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var p = new PollFd { Fd = fd, Events = events };
            int r = poll(&p, 1, 200);
            if (r > 0) return;   // ready, or an error the next splice reports
            if (r < 0 && Marshal.GetLastPInvokeError() is int e && e != Sys.EINTR) throw new NativeException("poll", e);
        }
    }

    public void Dispose()
    {
        if (_pipeRead >= 0) Libc.close(_pipeRead);
        if (_pipeWrite >= 0) Libc.close(_pipeWrite);
        _pipeRead = _pipeWrite = -1;
    }
}
