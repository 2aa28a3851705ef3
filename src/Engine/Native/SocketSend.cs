using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RestoreTools.Engine.Native;

/// <summary>
/// Writing straight into a connected socket (the agent's answers on a Unix socket): a few spans in
/// one sendmsg, and a file's bytes by sendfile, from the page cache into the socket without passing
/// through this process. .NET keeps its sockets non-blocking, so a full socket buffer is waited for
/// with poll, in slices so that cancellation is seen; a peer that takes nothing for StallTimeout is
/// given up on (the answer is cut, as Kestrel's minimum data rate would cut it).
/// </summary>
public static unsafe partial class SocketSend
{
    /// <summary>How long a peer may take no byte at all before the write fails.</summary>
    public static TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bytes one sendfile call is asked for: large enough that the call count does not matter.</summary>
    public const int SendFileChunk = 4 << 20;

    private const int EAGAIN = 11, MSG_NOSIGNAL = 0x4000;
    private const short POLLOUT = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct Iovec { public byte* Base; public nuint Length; }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name; public uint NameLength; public Iovec* Iov; public nuint IovLength;
        public void* Control; public nuint ControlLength; public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", SetLastError = true)] private static partial nint sendmsg(int fd, MsgHdr* msg, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial nint sendfile(int outFd, int inFd, long* offset, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeout);

    /// <summary>Writes a, b and c, in that order and whole, with as few calls as the socket allows.</summary>
    public static void Write(Socket socket, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, CancellationToken ct)
    {
        using var fd = new Handle(socket);
        fixed (byte* pa = a, pb = b, pc = c)
        {
            var iov = stackalloc Iovec[3];
            int count = 0;
            if (a.Length > 0) iov[count++] = new Iovec { Base = pa, Length = (nuint)a.Length };
            if (b.Length > 0) iov[count++] = new Iovec { Base = pb, Length = (nuint)b.Length };
            if (c.Length > 0) iov[count++] = new Iovec { Base = pc, Length = (nuint)c.Length };
            int first = 0;
            var stall = new Stall();
            while (first < count)
            {
                var msg = new MsgHdr { Iov = iov + first, IovLength = (nuint)(count - first) };
                nint n = sendmsg(fd.Fd, &msg, MSG_NOSIGNAL);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == Sys.EINTR) continue;
                    if (e != EAGAIN) throw new NativeException("send", e);
                    stall.Wait(fd.Fd, ct);
                    continue;
                }
                stall.Progress();
                // Step over what went out: whole spans, then into the one it stopped in.
                nuint sent = (nuint)n;
                while (first < count && sent >= iov[first].Length) { sent -= iov[first].Length; first++; }
                if (first < count) { iov[first].Base += sent; iov[first].Length -= sent; }
            }
        }
    }

    /// <summary>True when file is one that SendFile moves by sendfile (a file the engine opened); other streams are copied by the caller.</summary>
    public static bool CanSendFile(Stream file) => file is ReadOnlyFileStream;

    /// <summary>
    /// Sends count bytes of file from offset into the socket by sendfile. A filesystem that cannot
    /// feed sendfile (EINVAL, ENOSYS before the first byte) is read with pread and sent instead.
    /// Throws when the file ends early: the caller has promised count bytes to its peer.
    /// </summary>
    public static void SendFile(Socket socket, Stream file, long offset, long count, CancellationToken ct)
    {
        if (file is not ReadOnlyFileStream source) throw new ArgumentException("not a file the engine opened", nameof(file));
        using var fd = new Handle(socket);
        long position = offset, end = offset + count;
        var stall = new Stall();
        while (position < end)
        {
            ct.ThrowIfCancellationRequested();
            nint n = sendfile(fd.Fd, source.Fd, &position, (nuint)Math.Min(end - position, SendFileChunk));
            if (n < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e == Sys.EINTR) continue;
                if (e == EAGAIN) { stall.Wait(fd.Fd, ct); continue; }
                if (e is Sys.EINVAL or Sys.ENOSYS && position == offset) { CopyFile(socket, source, offset, count, ct); return; }
                throw new NativeException("sendfile", e, source.Path);
            }
            if (n == 0) throw new IOException($"'{source.Path}' ended {end - position:N0} bytes short of the {count:N0} promised");
            stall.Progress();
        }
    }

    private static void CopyFile(Socket socket, ReadOnlyFileStream source, long offset, long count, CancellationToken ct)
    {
        var buffer = new byte[128 * 1024];
        source.Position = offset;
        for (long left = count; left > 0;)
        {
            int n = source.Read(buffer.AsSpan(0, (int)Math.Min(buffer.Length, left)));
            if (n == 0) throw new IOException($"'{source.Path}' ended {left:N0} bytes short of the {count:N0} promised");
            Write(socket, buffer.AsSpan(0, n), default, default, ct);
            left -= n;
        }
    }

    /// <summary>Waits for room in the socket's buffer, seeing cancellation every 200 ms, and fails after StallTimeout without progress.</summary>
    private struct Stall()
    {
        private long _since = Environment.TickCount64;

        public void Progress() => _since = Environment.TickCount64;

        public readonly void Wait(int fd, CancellationToken ct)
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var p = new PollFd { Fd = fd, Events = POLLOUT };
                int r = poll(&p, 1, 200);
                if (r > 0) return;   // writable, or an error the next send reports
                if (r < 0 && Marshal.GetLastPInvokeError() is int e && e != Sys.EINTR) throw new NativeException("poll", e);
                if (Environment.TickCount64 - _since > (long)StallTimeout.TotalMilliseconds)
                    throw new IOException($"the peer took nothing for {StallTimeout.TotalSeconds:0} s: the answer is cut off");
            }
        }
    }

    /// <summary>The socket's descriptor, held against a concurrent close while in use.</summary>
    private readonly ref struct Handle
    {
        private readonly SafeHandle _handle;
        public int Fd { get; }

        public Handle(Socket socket)
        {
            _handle = socket.SafeHandle;
            bool added = false;
            _handle.DangerousAddRef(ref added);
            Fd = (int)_handle.DangerousGetHandle();
        }

        public void Dispose() => _handle.DangerousRelease();
    }
}
