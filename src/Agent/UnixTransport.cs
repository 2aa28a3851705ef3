using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace RestoreTools.Agent;

/// <summary>
/// The Kestrel transport for Unix sockets. Each connection is the socket behind stream pipes, so a
/// flush of Kestrel's output has reached the socket when it completes (Kestrel's own socket
/// transport sends later, from a loop of its own): an answer can then go on in the socket itself
/// (DirectSocket), by sendfile and without Kestrel's copies, and nothing of Kestrel's is overtaken.
/// </summary>
public sealed class UnixTransportFactory(AgentOptions options) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is UnixDomainSocketEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = Listeners.CreateBoundSocket(endpoint);
        try { socket.Listen(options.Backlog); }
        catch { socket.Dispose(); throw; }
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, endpoint));
    }

    private sealed class Listener(Socket socket, EndPoint endPoint) : IConnectionListener
    {
        public EndPoint EndPoint => endPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                try
                {
                    var accepted = await socket.AcceptAsync(cancellationToken);
                    return new SocketConnection(accepted, endPoint);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException
                                           || ex is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
                {
                    return null;   // unbound
                }
                catch (SocketException)
                {
                    // A client that went away before it was accepted: the next one.
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>One accepted connection: a duplex pipe over the socket's stream, with DirectSocket among its features.</summary>
    private sealed class SocketConnection : ConnectionContext, IDuplexPipe, IConnectionItemsFeature
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly CancellationTokenSource _closed = new();
        private int _disposed;

        public SocketConnection(Socket socket, EndPoint local)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
            Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
            // Kestrel fills what GetMemory gives; with 4 KiB segments (the default) a 64 KiB write was 16 sends.
            Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
            LocalEndPoint = local;
            RemoteEndPoint = local;
            ConnectionClosed = _closed.Token;
            Features.Set(new DirectSocket(socket));
            // ConnectionGuard finds its entry here from a request (proven, active): without it every connection looks unproven.
            Features.Set<IConnectionItemsFeature>(this);
        }

        public PipeReader Input { get; }
        public PipeWriter Output { get; }
        public override IDuplexPipe Transport { get => this; set => throw new NotSupportedException(); }
        public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N")[..12];
        public override IFeatureCollection Features { get; } = new FeatureCollection();
        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        /// <summary>Ends the connection at once: a pending read ends and a direct write fails; the socket is closed on dispose.</summary>
        public override void Abort(ConnectionAbortedException abortReason)
        {
            try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        }

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await Input.CompleteAsync();
            await Output.CompleteAsync();
            _stream.Dispose();
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        }
    }
}

/// <summary>
/// The connection's socket, for an answer that writes its body there itself once Kestrel has sent
/// the headers (DirectChunkedBody). Only transports whose flushes reach the socket before they
/// complete offer it.
/// </summary>
public sealed class DirectSocket(Socket socket)
{
    public Socket Socket { get; } = socket;
}
