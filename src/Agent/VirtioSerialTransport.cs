using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using RestoreTools.Contract;

namespace RestoreTools.Agent;

/// <summary>
/// A Kestrel transport over the restore VM's virtio-serial ports: a port is one byte stream, not a
/// listener, so each port carries one HTTP connection at a time and the host opens as many ports
/// as it wants connections (VirtioSerialConnector on the host). Both ways go in records
/// (VirtioSerialFraming): a connection starts at the host's Open record, which the agent echoes
/// before its answers, and ends at the next Open or when the host disconnects. The guest cannot
/// close a port's stream: when Kestrel ends a connection, an End record tells the host.
/// </summary>
public sealed class VirtioSerialTransportFactory(AgentLog log) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is VirtioSerialEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var ep = (VirtioSerialEndPoint)endpoint;
        PortWakeup.Start(log);
        var ports = VirtioSerialPort.Find(ep.Prefix);
        // The host announces its ports after virtio_console's probe, asynchronously: a moment to show up.
        for (int i = 0; i < 40 && ports.Count == 0; i++)
        {
            Thread.Sleep(50);
            ports = VirtioSerialPort.Find(ep.Prefix);
        }
        if (ports.Count == 0) log.Info($"virtio-serial: no port named {ep.Prefix}*: not listening there");
        var opened = ports.Select(p => VirtioSerialPort.Open(p.Name, p.Device)).ToList();
        foreach (var port in opened)
            if (PortWakeup.Enabled && !port.EnableSignals()) log.Warn($"virtio-serial: no SIGIO for {port.Name}: it naps while unused");
        return ValueTask.FromResult<IConnectionListener>(new Listener(ep, opened, log));
    }

    /// <summary>
    /// Wakes the port readers that wait for a host: SIGIO (one handler for every port; the signal
    /// does not say which) bumps a count and wakes them all; each reads its port again. Without
    /// it (no handler could be installed) the readers nap: 1 ms at first, up to 20 ms.
    /// </summary>
    private static class PortWakeup
    {
        private static readonly object Gate = new();
        private static long _signals;
        private static PosixSignalRegistration? _registration;

        public static bool Enabled => _registration is not null;
        public static long Count => Interlocked.Read(ref _signals);

        public static void Start(AgentLog log)
        {
            lock (Gate)
            {
                if (_registration is not null) return;
                try
                {
                    _registration = PosixSignalRegistration.Create((PosixSignal)VirtioSerialPort.SigIo, c =>
                    {
                        c.Cancel = true;   // not the default action (exit)
                        lock (Gate) { _signals++; Monitor.PulseAll(Gate); }
                    });
                }
                catch (Exception ex) when (ex is PlatformNotSupportedException or ArgumentOutOfRangeException or IOException or InvalidOperationException)
                {
                    log.Warn($"virtio-serial: no SIGIO handler ({ex.Message}): unused ports nap");
                }
            }
        }

        /// <summary>Waits until a signal came after seen was read, or the timeout.</summary>
        public static void Wait(long seen, int timeoutMs)
        {
            lock (Gate)
                if (_signals == seen) Monitor.Wait(Gate, timeoutMs);
        }
    }

    private sealed class Listener : IConnectionListener
    {
        private readonly Channel<ConnectionContext> _accepted = Channel.CreateUnbounded<ConnectionContext>();
        private readonly List<PortServer> _servers;

        public Listener(VirtioSerialEndPoint endPoint, List<VirtioSerialPort> ports, AgentLog log)
        {
            EndPoint = endPoint;
            _servers = ports.Select(p => new PortServer(p, _accepted.Writer, log)).ToList();
        }

        public EndPoint EndPoint { get; }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try { return await _accepted.Reader.ReadAsync(cancellationToken); }
            catch (ChannelClosedException) { return null; }
            catch (OperationCanceledException) { return null; }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _accepted.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _accepted.Writer.TryComplete();
            // The reader threads may sit in poll(2); the process is ending, they are background threads.
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Reads one port on a thread of its own and hands each host connection to Kestrel as a
    /// connection. While no host is connected the port cannot be waited on (poll returns at once):
    /// the thread waits for SIGIO (PortWakeup), or naps where no handler could be installed.
    /// </summary>
    private sealed class PortServer
    {
        private readonly AgentLog log;
        private readonly VirtioSerialPort _port;
        private readonly ChannelWriter<ConnectionContext> _accepted;
        private readonly object _writeLock = new();
        private Session? _session;
        private int _generation;
        // The guest learns that a host connected ("port open") on the control queue, which the kernel
        // handles apart from the data: the first bytes can come before it, and until then the port
        // reads as disconnected. So a port counts as disconnected only once it has been seen
        // connected (a read found it open and empty, or a write went through) and then reads 0.
        private volatile bool _hostSeen;

        public PortServer(VirtioSerialPort port, ChannelWriter<ConnectionContext> accepted, AgentLog log)
        {
            this.log = log;
            _port = port;
            _accepted = accepted;
            new Thread(ReadLoop) { IsBackground = true, Name = "vport " + port.Name }.Start();
        }

        private void ReadLoop()
        {
            var buffer = new byte[64 * 1024];
            var parser = new VirtioSerialFrameParser();
            int idle = 0, unannounced = 0;
            while (true)
            {
                int n;
                long signals = PortWakeup.Count;
                try { n = _port.Read(buffer); }
                catch (IOException) { Thread.Sleep(100); continue; }
                if (n < 0)
                {
                    _hostSeen = true;
                    idle = 0;
                    _port.WaitReadable(-1);
                    continue;
                }
                if (n == 0 && _session is not null && !_hostSeen && ++unannounced < 2000)
                {
                    Thread.Sleep(1);   // data came before the "port open": wait for it
                    continue;
                }
                if (n == 0)
                {
                    unannounced = 0;
                    EndSession(hostGone: true);
                    parser.Reset();
                    // No host: SIGIO says when one connects (the 1 s is a safety net); without it, naps.
                    if (PortWakeup.Enabled) PortWakeup.Wait(signals, 1000);
                    else Thread.Sleep(idle < 100 ? 1 : idle < 300 ? 5 : 20);
                    idle++;
                    continue;
                }
                idle = 0;
                parser.Feed(buffer.AsSpan(0, n), Opened, Received, Garbled);
            }
        }

        /// <summary>A host's Open: whatever connection the port carried is over, this one starts.</summary>
        private void Opened(ulong nonce)
        {
            EndSession(hostGone: false);
            Session s;
            lock (_writeLock) _session = s = new Session(this, Volatile.Read(ref _generation), nonce);
            if (!_accepted.TryWrite(s)) s.Abort(new ConnectionAbortedException("the agent is stopping"));
        }

        private void Received(ReadOnlySpan<byte> data)
        {
            // Nothing before a host's Open, and nothing once Kestrel ended the connection (until the next Open).
            if (_session is { Ended: false } s) s.Deliver(data);
        }

        private void Garbled(string what)
        {
            // Only a host that died in the middle of a record, or not ours: its connection cannot go on.
            log.Warn($"virtio-serial: {_port.Name}: the host sent {what}: dropping its bytes until it disconnects");
            EndSession(hostGone: false);
        }

        /// <summary>Ends the port's connection, if any; hostGone: the host disconnected (read gave 0), not just opened anew.</summary>
        private void EndSession(bool hostGone)
        {
            // First, outside the lock: a writer that holds it, waiting for room on the port, sees this and gives up.
            Interlocked.Increment(ref _generation);
            Session? s;
            lock (_writeLock)
            {
                s = _session;
                _session = null;
                if (hostGone) _hostSeen = false;
            }
            s?.EndInput();
        }

        /// <summary>Writes for the connection of that generation only: a later host never gets an earlier connection's bytes.</summary>
        public void Write(int generation, ReadOnlySpan<byte> frame)
        {
            lock (_writeLock)
            {
                if (generation != Volatile.Read(ref _generation)) throw new IOException($"{_port.Name}: the host closed the connection");
                _port.Write(frame, () => !_hostSeen, () => Volatile.Read(ref _generation) != generation);
                _hostSeen = true;
            }
        }
    }

    /// <summary>One host connection: input from the port's reader thread, output framed by a pump thread.</summary>
    private sealed class Session : ConnectionContext, IDuplexPipe, IConnectionItemsFeature
    {
        private readonly PortServer _server;
        private readonly int _generation;
        private readonly ulong _nonce;
        private readonly Pipe _in = new(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024, useSynchronizationContext: false));
        private readonly Pipe _out = new(new PipeOptions(pauseWriterThreshold: 512 * 1024, resumeWriterThreshold: 256 * 1024, useSynchronizationContext: false));
        private readonly CancellationTokenSource _closed = new();
        private readonly Thread _pump;
        private int _ended;

        public Session(PortServer server, int generation, ulong nonce)
        {
            _server = server;
            _generation = generation;
            _nonce = nonce;
            ConnectionClosed = _closed.Token;
            _pump = new Thread(Pump) { IsBackground = true, Name = "vport out" };
            _pump.Start();
            // ConnectionGuard finds its entry here from a request (proven, active): without it every
            // connection looks unproven, and a running download could be dropped for a newcomer.
            Features.Set<IConnectionItemsFeature>(this);
        }

        public bool Ended => Volatile.Read(ref _ended) != 0;
        public PipeReader Input => _in.Reader;
        public PipeWriter Output => _out.Writer;
        public override IDuplexPipe Transport { get => this; set => throw new NotSupportedException(); }
        public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N")[..12];
        public override IFeatureCollection Features { get; } = new FeatureCollection();
        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        /// <summary>Bytes from the host (on the reader thread; waits while Kestrel has 256 KiB unread).</summary>
        public void Deliver(ReadOnlySpan<byte> data)
        {
            _in.Writer.Write(data);
            var result = _in.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
            if (result.IsCompleted) Interlocked.Exchange(ref _ended, 1);
        }

        /// <summary>The host disconnected: the request stream ends, nothing more can be sent.</summary>
        public void EndInput()
        {
            _in.Writer.Complete();
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        }

        /// <summary>The host's Open echoed, then Kestrel's answers in frames of up to 32 KiB as the port takes them, then the end frame.</summary>
        private void Pump()
        {
            var frame = new byte[VirtioSerialPort.MaxWrite];
            var reader = _out.Reader;
            try
            {
                VirtioSerialFraming.WriteOpen(frame, _nonce);
                _server.Write(_generation, frame.AsSpan(0, VirtioSerialFraming.OpenSize));
                while (true)
                {
                    var result = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
                    var data = result.Buffer;
                    while (data.Length > 0)
                    {
                        int take = (int)Math.Min(data.Length, VirtioSerialFraming.MaxPayload);
                        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)take);
                        data.Slice(0, take).CopyTo(frame.AsSpan(VirtioSerialFraming.HeaderSize));
                        _server.Write(_generation, frame.AsSpan(0, VirtioSerialFraming.HeaderSize + take));
                        data = data.Slice(take);
                    }
                    reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted || result.IsCanceled) break;
                }
                BinaryPrimitives.WriteUInt32LittleEndian(frame, VirtioSerialFraming.End);
                _server.Write(_generation, frame.AsSpan(0, VirtioSerialFraming.HeaderSize));
                reader.Complete();
            }
            catch (Exception ex)
            {
                // The host is gone: Kestrel's writes fail, its reads end (the input's writer is the reader thread's).
                Interlocked.CompareExchange(ref _ended, 1, 0);
                reader.Complete(ex);
                _in.Reader.CancelPendingRead();
            }
        }

        public override void Abort(ConnectionAbortedException abortReason)
        {
            Interlocked.CompareExchange(ref _ended, 1, 0);
            _out.Reader.CancelPendingRead();   // the pump sends the end frame
            _in.Reader.CancelPendingRead();
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        }

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _ended, 2) == 2) return;
            await _in.Reader.CompleteAsync();
            await _out.Writer.CompleteAsync();
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        }
    }
}

/// <summary>--listen virtio-serial[:PREFIX]: every virtio-serial port whose name starts with PREFIX.</summary>
public sealed class VirtioSerialEndPoint(string prefix) : EndPoint
{
    public string Prefix { get; } = prefix;
    public override string ToString() => "virtio-serial:" + Prefix;
}
