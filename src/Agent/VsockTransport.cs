using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using RestoreTools.Contract;

namespace RestoreTools.Agent;

/// <summary>
/// A Kestrel transport for AF_VSOCK endpoints, which .NET's Socket cannot create: libc listens and
/// accepts (on a thread of its own), and each connection is a blocking descriptor behind pipes.
/// </summary>
public sealed class VsockTransportFactory(AgentOptions options) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is VsockEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var vsock = (VsockEndPoint)endpoint;
        int fd = VsockSocket.Listen(vsock, options.Backlog);
        return ValueTask.FromResult<IConnectionListener>(new VsockListener(vsock, fd));
    }

    private sealed class VsockListener : IConnectionListener
    {
        private readonly int _fd;
        private readonly Channel<ConnectionContext> _accepted = Channel.CreateBounded<ConnectionContext>(1);
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;

        public VsockListener(VsockEndPoint endPoint, int fd)
        {
            EndPoint = endPoint;
            _fd = fd;
            _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "vsock accept" };
            _thread.Start();
        }

        public EndPoint EndPoint { get; }

        private void AcceptLoop()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    int fd = VsockSocket.Accept(_fd, 200, out var remote);
                    if (fd < 0) continue;
                    var connection = new StreamConnection(VsockSocket.OpenStream(fd), EndPoint, remote!);
                    _accepted.Writer.WriteAsync(connection, _stop.Token).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException) { }
            catch (Exception ex) { _accepted.Writer.TryComplete(ex); return; }
            _accepted.Writer.TryComplete();
        }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try { return await _accepted.Reader.ReadAsync(cancellationToken); }
            catch (ChannelClosedException) { return null; }
            catch (OperationCanceledException) { return null; }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _stop.Cancel();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _thread.Join(1000);
            VsockSocket.Close(_fd);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A connection over a Stream, as Kestrel wants it: a duplex pipe plus features.</summary>
    private sealed class StreamConnection : ConnectionContext, IDuplexPipe, IConnectionItemsFeature
    {
        private readonly Stream _stream;
        private readonly CancellationTokenSource _closed = new();
        private int _disposed;

        public StreamConnection(Stream stream, EndPoint local, EndPoint remote)
        {
            _stream = stream;
            Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
            Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
            LocalEndPoint = local;
            RemoteEndPoint = remote;
            ConnectionClosed = _closed.Token;
            // ConnectionGuard finds its entry here from a request (proven, active): without it every
            // connection looks unproven, and a running download could be dropped for a newcomer.
            Features.Set<IConnectionItemsFeature>(this);
        }

        public PipeReader Input { get; }
        public PipeWriter Output { get; }
        public override IDuplexPipe Transport { get => this; set => throw new NotSupportedException(); }
        public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N")[..12];
        public override IFeatureCollection Features { get; } = new FeatureCollection();
        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override void Abort(ConnectionAbortedException abortReason)
        {
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
            _stream.Dispose();
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
