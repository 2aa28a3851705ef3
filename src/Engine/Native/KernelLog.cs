using System.Text;

namespace RestoreTools.Engine.Native;

/// <summary>
/// The kernel's log from a point on, read from /dev/kmsg: a filesystem driver says there why it refused
/// a mount (ufs: "bad magic number"), which mount(2)'s errno alone never tells. Needs CAP_SYSLOG (root);
/// without it there is simply nothing to read.
/// </summary>
public sealed unsafe class KernelLog : IDisposable
{
    private const int SEEK_END = 2, EPIPE = 32;
    private int _fd;

    private KernelLog(int fd) => _fd = fd;

    /// <summary>Starts at the log's current end; null when /dev/kmsg cannot be opened.</summary>
    public static KernelLog? FromNow(string path = "/dev/kmsg")
    {
        int fd;
        try { fd = Sys.Open(path, Sys.O_NONBLOCK); }
        catch (NativeException) { return null; }
        if (Libc.lseek(fd, 0, SEEK_END) < 0) { Sys.Close(fd); return null; }
        return new KernelLog(fd);
    }

    /// <summary>The message texts logged since the start or the last call (at most max), oldest first.</summary>
    public IReadOnlyList<string> ReadNew(int max = 200)
    {
        var lines = new List<string>();
        if (_fd < 0) return lines;
        // One read returns one record: "prio,seq,usec,flags;text" then "\n" and " KEY=value" continuation lines.
        var buf = new byte[8192];
        fixed (byte* b = buf)
        {
            while (lines.Count < max)
            {
                nint n = Libc.read(_fd, b, (nuint)buf.Length);
                if (n < 0)
                {
                    int e = Libc.Errno;
                    if (e == Sys.EINTR || e == EPIPE) continue; // EPIPE: records were overwritten; the next read goes on
                    break;                                     // EAGAIN: nothing more
                }
                if (n == 0) break;
                string record = Encoding.UTF8.GetString(buf, 0, (int)n);
                int semi = record.IndexOf(';');
                if (semi < 0) continue;
                string text = record[(semi + 1)..];
                int nl = text.IndexOf('\n');
                if (nl >= 0) text = text[..nl];
                // Hostile bytes from a driver's message about an image's names stay printable.
                lines.Add(string.Concat(text.Select(c => char.IsControl(c) ? '?' : c)).TrimEnd());
            }
        }
        return lines;
    }

    public void Dispose()
    {
        if (_fd >= 0) Sys.Close(_fd);
        _fd = -1;
    }
}
