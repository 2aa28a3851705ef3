using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using RestoreTools.Contract;

namespace RestoreTools.Agent;

/// <summary>Turns the --listen options into Kestrel endpoints: Unix sockets (0600), vsock and TCP.</summary>
public static class Listeners
{
    public static void Configure(KestrelServerOptions kestrel, AgentOptions options, ConnectionGuard guard)
    {
        void Guarded(ListenOptions listen) => listen.Use(guard.Middleware);
        foreach (var spec in options.Listen)
        {
            switch (spec.Kind)
            {
                case ListenKind.Unix:
                    RemoveStaleSocket(spec.SocketPath!);
                    kestrel.ListenUnixSocket(spec.SocketPath!, Guarded);
                    break;
                case ListenKind.Vsock:
                    kestrel.Listen(new VsockEndPoint(VsockEndPoint.AnyCid, spec.VsockPort), Guarded);
                    break;
                case ListenKind.Tcp:
                    kestrel.Listen(spec.Tcp!, Guarded);
                    break;
                case ListenKind.VirtioSerial:
                    kestrel.Listen(new VirtioSerialEndPoint(spec.PortPrefix!), Guarded);
                    break;
            }
        }
    }

    /// <summary>
    /// The one transport Kestrel gets: vsock endpoints go to the vsock factory, virtio-serial ports
    /// to theirs, Unix sockets to the agent's own (UnixTransportFactory: answers may write into the
    /// socket), TCP to Kestrel's socket transport; all with the backlog and the 0600 bind below.
    /// </summary>
    public static IConnectionListenerFactory Transport(AgentOptions options, ILoggerFactory logs, AgentLog log)
    {
        var sockets = new SocketTransportFactory(Options.Create(new SocketTransportOptions
        {
            Backlog = options.Backlog,
            CreateBoundListenSocket = CreateBoundSocket,
        }), logs);
        return new TransportSelector(sockets, new VsockTransportFactory(options), new VirtioSerialTransportFactory(log), new UnixTransportFactory(options));
    }

    private sealed class TransportSelector(IConnectionListenerFactory sockets, VsockTransportFactory vsock, VirtioSerialTransportFactory ports, UnixTransportFactory unix)
        : IConnectionListenerFactory, IConnectionListenerFactorySelector
    {
        public bool CanBind(EndPoint endpoint) => true;

        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
            vsock.CanBind(endpoint) ? vsock.BindAsync(endpoint, cancellationToken)
            : ports.CanBind(endpoint) ? ports.BindAsync(endpoint, cancellationToken)
            : unix.CanBind(endpoint) ? unix.BindAsync(endpoint, cancellationToken)
            : sockets.BindAsync(endpoint, cancellationToken);
    }

    /// <summary>
    /// Kestrel's socket factory with one change: a Unix socket file is made 0600 between bind and
    /// listen, so there is no moment where another user could connect.
    /// </summary>
    public static Socket CreateBoundSocket(EndPoint endPoint)
    {
        var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        if (endPoint is UnixDomainSocketEndPoint unix && unix.ToString() is { Length: > 0 } path && path[0] == '/')
        {
            try { File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); }
            catch { socket.Dispose(); throw; }
        }
        return socket;
    }

    /// <summary>A socket file left by an agent that died; anything else at that path is an error.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"--listen unix:{path}: the path is a folder");
        if (!File.Exists(path)) return;
        if (IsSocketNode(path)) File.Delete(path);
        else throw new UsageException($"--listen unix:{path}: the path exists and is not a socket");
    }

    private static bool IsSocketNode(string path)
    {
        // A socket cannot be opened as a file: ENXIO. A regular file can.
        try { using var _ = File.OpenHandle(path, FileMode.Open, FileAccess.Read); return false; }
        catch (IOException) { return true; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Removes the socket files at exit.</summary>
    public static void Cleanup(AgentOptions options)
    {
        foreach (var spec in options.Listen.Where(s => s.Kind == ListenKind.Unix))
            try { if (IsSocketNode(spec.SocketPath!)) File.Delete(spec.SocketPath!); } catch (IOException) { }
    }
}
