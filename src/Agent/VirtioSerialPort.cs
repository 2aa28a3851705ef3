using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace RestoreTools.Agent;

/// <summary>
/// One virtio-serial port of the restore VM (/dev/vportNpM), opened non-blocking: the only place
/// that holds its descriptor. A blocking port is a trap: write(2) on it waits while the host is
/// not connected and then delivers the old bytes to the NEXT host connection, and read(2) and
/// poll(2) never wait for a host to connect (read gives 0 and poll POLLHUP at once).
/// </summary>
public sealed unsafe partial class VirtioSerialPort : IDisposable
{
    private const int O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    private const short POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10;
    private const int EINTR = 4, EAGAIN = 11;

    /// <summary>Most bytes one write(2) takes: virtio_console copies at most 32 KiB per call into one buffer.</summary>
    public const int MaxWrite = 32 * 1024;

    [LibraryImport("libc", SetLastError = true)] private static partial int open(byte* path, int flags, uint mode);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buf, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial nint write(int fd, byte* buf, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeout);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int fcntl(int fd, int cmd, int arg);
    [LibraryImport("libc")] private static partial int getpid();

    private const int F_GETFL = 3, F_SETFL = 4, F_SETOWN = 8, O_ASYNC = 0x2000;

    /// <summary>SIGIO: what the kernel sends an O_ASYNC port's owner when data comes or the host connects or goes.</summary>
    public const int SigIo = 29;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    private int _fd;

    private VirtioSerialPort(int fd, string name, string device) { _fd = fd; Name = name; Device = device; }

    public string Name { get; }
    public string Device { get; }

    /// <summary>The ports whose name (as qemu's virtserialport name=) starts with prefix, as (name, /dev node), by name.</summary>
    public static List<(string Name, string Device)> Find(string prefix)
    {
        var found = new List<(string, string)>();
        const string sys = "/sys/class/virtio-ports";
        if (!Directory.Exists(sys)) return found;
        foreach (var dir in Directory.EnumerateDirectories(sys))
        {
            string name;
            try { name = File.ReadAllText(Path.Combine(dir, "name")).Trim(); } catch (IOException) { continue; }
            if (name.StartsWith(prefix, StringComparison.Ordinal)) found.Add((name, "/dev/" + Path.GetFileName(dir)));
        }
        return found.OrderBy(p => p.Item1, StringComparer.Ordinal).ToList();
    }

    public static VirtioSerialPort Open(string name, string device)
    {
        byte[] path = Encoding.UTF8.GetBytes(device + "\0");
        int fd;
        fixed (byte* p = path) fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
        if (fd < 0)
        {
            int err = Marshal.GetLastPInvokeError();
            throw new IOException($"opening virtio-serial port {name} ({device}): {new Win32Exception(err).Message}");
        }
        return new VirtioSerialPort(fd, name, device);
    }

    /// <summary>Bytes read (&gt; 0); 0: no host is connected; -1: the host is connected and has sent nothing yet.</summary>
    public int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read(_fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                int err = Marshal.GetLastPInvokeError();
                if (err == EINTR) continue;
                if (err == EAGAIN) return -1;
                throw new IOException($"reading {Name}: {new Win32Exception(err).Message}");
            }
        }
    }

    /// <summary>Waits until there is something to read or the host's connection changes (a disconnected port returns at once).</summary>
    public void WaitReadable(int timeoutMs) => Poll(POLLIN, timeoutMs);

    /// <summary>
    /// Writes all of data (at most MaxWrite: one virtio buffer). Throws when no host is connected:
    /// the bytes would otherwise wait for, and go to, the next connection. While unannounced()
    /// says the host's "port open" may still be on its way (see PortServer), it waits for it instead.
    /// While no byte went out and the port has no room, throws once abandoned() says the
    /// connection is over (a new host opened the port, and this writer holds up its answer).
    /// </summary>
    public void Write(ReadOnlySpan<byte> data, Func<bool> unannounced, Func<bool> abandoned)
    {
        long waited = 0;
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = write(_fd, p + done, (nuint)(data.Length - done));
                if (n > 0) { done += (int)n; continue; }
                int err = n < 0 ? Marshal.GetLastPInvokeError() : EAGAIN;
                if (err == EINTR) continue;
                if (err != EAGAIN) throw new IOException($"writing {Name}: {new Win32Exception(err).Message}");
                // EAGAIN: the host's queue is full, or no host is connected (then poll says POLLHUP).
                // A write of one buffer goes whole or not at all, so giving up here cuts no record.
                if (done == 0 && abandoned()) throw new IOException($"writing {Name}: the connection was replaced");
                short got = Poll(POLLOUT, 100);
                if ((got & (POLLHUP | POLLERR)) != 0)
                {
                    if (!unannounced() || ++waited > 2000) throw new IOException($"writing {Name}: the host closed the connection");
                    Thread.Sleep(1);
                }
            }
        }
    }

    /// <summary>
    /// Asks the kernel for SIGIO on this port (O_ASYNC, owned by this process): virtio_console
    /// signals a host's connect, which neither read(2) nor poll(2) waits for. Only once a handler
    /// for SIGIO is installed: its default action ends the process.
    /// </summary>
    public bool EnableSignals()
    {
        if (fcntl(_fd, F_SETOWN, getpid()) < 0) return false;
        int flags = fcntl(_fd, F_GETFL, 0);
        return flags >= 0 && fcntl(_fd, F_SETFL, flags | O_ASYNC) >= 0;
    }

    private short Poll(short events, int timeoutMs)
    {
        var pfd = new PollFd { Fd = _fd, Events = events };
        while (true)
        {
            int n = poll(&pfd, 1, timeoutMs);
            if (n >= 0) return pfd.Revents;
            int err = Marshal.GetLastPInvokeError();
            if (err != EINTR) throw new IOException($"poll on {Name}: {new Win32Exception(err).Message}");
        }
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) close(fd);
    }
}
