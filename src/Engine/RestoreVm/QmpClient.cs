using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace RestoreTools.Engine.RestoreVm;

/// <summary>
/// qemu's machine protocol (QMP) on the VM's Unix socket: one JSON command per line, one answer;
/// asynchronous events between them are skipped. Used to save and resume boot snapshots and to
/// plug the images into a resumed VM.
/// </summary>
internal sealed class QmpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Connects (qemu creates the socket before -daemonize returns), reads the greeting and leaves negotiation mode.</summary>
    public static QmpClient Connect(string path, TimeSpan timeout)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = (int)timeout.TotalMilliseconds,
            SendTimeout = (int)timeout.TotalMilliseconds,
        };
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            var qmp = new QmpClient(socket);
            qmp.ReadMessage();   // {"QMP": {...}}
            qmp.Execute("qmp_capabilities");
            return qmp;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs a command; its "return" value, or an IOException with qemu's error text.</summary>
    public JsonElement Execute(string command, Action<Utf8JsonWriter>? arguments = null)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("execute", command);
            if (arguments is not null)
            {
                w.WritePropertyName("arguments");
                w.WriteStartObject();
                arguments(w);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        while (true)
        {
            var message = ReadMessage();
            if (message.TryGetProperty("return", out var value)) return value.Clone();
            if (message.TryGetProperty("error", out var error))
                throw new IOException($"qemu: {command}: {(error.TryGetProperty("desc", out var d) ? d.GetString() : error.ToString())}");
            // {"event": ...}: not an answer
        }
    }

    private JsonElement ReadMessage()
    {
        string line = _reader.ReadLine() ?? throw new IOException("qemu closed its QMP socket");
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
    }
}
