using System.Net.Sockets;

namespace RestoreTools.Contract;

/// <summary>
/// Opens connections to an agent in a restore VM over its virtio-serial ports. The VM's folder
/// holds, per port N, qemu's socket port-N.sock (a chardev server that takes one client at a
/// time: a second connect would sit in its backlog unanswered) and port-N.lock: a client takes a
/// free port by locking its file (flock, through FileShare.None), so processes and connections
/// share the ports without asking each other, and a client that dies frees its port. A port is
/// free again as soon as its connection closed: connections are told apart by their Open records
/// (VirtioSerialFraming), not by the time between them.
/// </summary>
public sealed class VirtioSerialConnector(string directory)
{
    public string Directory { get; } = directory;

    public static string SocketPath(string directory, int port) => Path.Combine(directory, $"port-{port}.sock");
    public static string LockPath(string directory, int port) => Path.Combine(directory, $"port-{port}.lock");

    public async ValueTask<Stream> ConnectAsync(CancellationToken ct)
    {
        int ports = System.IO.Directory.EnumerateFiles(Directory, "port-*.sock").Count();
        if (ports == 0) throw new IOException($"no virtio-serial port sockets in {Directory}: is the restore VM running?");
        while (true)
        {
            for (int i = 0; i < ports; i++)
            {
                FileStream? held;
                try { held = new FileStream(LockPath(Directory, i), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
                catch (IOException) { continue; }   // in use by another connection
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath(Directory, i)), ct);
                }
                catch
                {
                    socket.Dispose();
                    held.Dispose();
                    throw;
                }
                return await VirtioSerialStream.OpenAsync(socket, held, ct);
            }
            // Every port is in use: wait for one (the agent serves at most that many connections at once).
            await Task.Delay(10, ct);
        }
    }
}
