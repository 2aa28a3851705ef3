using System.IO.Pipes;
using System.Security.Cryptography;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// The destinations a download is written into, each read back whole: a regular file (with bytes of
/// its own before the download's, which must stay), a pipe as a PipeStream, a pipe as a FileStream
/// (opened through /proc/self/fd), a file opened for append (no splice: copied), and a MemoryStream.
/// </summary>
public static class Destinations
{
    public static readonly byte[] Prefix = "bytes of the destination's own, before the download\n"u8.ToArray();

    public static TheoryData<string> Kinds => ["file", "pipe", "fifo-file", "append-file", "memory"];

    /// <summary>Runs write into a fresh destination of the kind; returns what the download added (the prefix checked and left off) and what write threw.</summary>
    public static (byte[] Written, Exception? Error) Capture(string kind, Action<Stream> write)
    {
        switch (kind)
        {
            case "file":
            case "append-file":
            {
                string dir = Directory.CreateTempSubdirectory("rt-dest-").FullName;
                try
                {
                    string file = Path.Combine(dir, "out.bin");
                    File.WriteAllBytes(file, Prefix);
                    Exception? error;
                    using (var s = kind == "file" ? new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.None, 1 << 20)
                               : new FileStream(file, FileMode.Append, FileAccess.Write))
                    {
                        if (kind == "file") s.Position = Prefix.Length;
                        error = Try(() => write(s));
                    }
                    byte[] all = File.ReadAllBytes(file);
                    Assert.True(all.AsSpan().StartsWith(Prefix), "the destination's own bytes were overwritten");
                    return (all[Prefix.Length..], error);
                }
                finally { Directory.Delete(dir, true); }
            }
            case "pipe":
            case "fifo-file":
            {
                using var server = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
                var reader = Task.Run(() => { var m = new MemoryStream(); server.CopyTo(m); return m.ToArray(); });
                Exception? error;
                using (var client = new AnonymousPipeClientStream(PipeDirection.Out, server.ClientSafePipeHandle))
                {
                    if (kind == "pipe") error = Try(() => write(client));
                    else
                    {
                        using var fifo = new FileStream($"/proc/self/fd/{client.SafePipeHandle.DangerousGetHandle()}", FileMode.Open, FileAccess.Write);
                        error = Try(() => write(fifo));
                    }
                }
                server.DisposeLocalCopyOfClientHandle();
                return (reader.Result, error);
            }
            default:
            {
                var m = new MemoryStream();
                var error = Try(() => write(m));
                return (m.ToArray(), error);
            }
        }
    }

    private static Exception? Try(Action a)
    {
        try { a(); return null; }
        catch (Exception ex) { return ex; }
    }

    public static string Sha(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
