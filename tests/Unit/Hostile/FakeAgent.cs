using System.Net.Sockets;
using System.Text;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>An answer of the fake agent: a body, and how the connection ends.</summary>
/// <param name="DeclaredLength">Content-Length to announce instead of the body's (a lie: the connection closes early).</param>
/// <param name="CloseDelimited">No Content-Length: the body ends when the connection closes.</param>
public sealed record FakeAnswer(int Status, string ContentType, byte[] Body, long? DeclaredLength = null, bool CloseDelimited = false)
{
    public static FakeAnswer Json(string json, int status = 200) => new(status, "application/json", Encoding.UTF8.GetBytes(json));
}

/// <summary>
/// A compromised agent: a minimal HTTP/1.1 server on a Unix socket (raw sockets: HttpListener has
/// no Unix sockets, and the test project does not reference Kestrel). It answers the real
/// AgentClient's requests with whatever the test hands it, byte for byte.
/// </summary>
public sealed class FakeAgent : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Func<string, FakeAnswer> _answer;
    private readonly List<string> _requests = [];
    private readonly CancellationTokenSource _stop = new();

    public string Dir { get; } = Directory.CreateTempSubdirectory("rt-fake-agent-").FullName;
    public string Socket => Path.Combine(Dir, "agent.sock");
    public string Endpoint => "unix:" + Socket;

    /// <summary>Request lines seen ("GET /api/v1/resolve?path=..."), in order.</summary>
    public IReadOnlyList<string> Requests { get { lock (_requests) return _requests.ToList(); } }

    public FakeAgent(Func<string, FakeAnswer> answer)
    {
        _answer = answer;
        _listener.Bind(new UnixDomainSocketEndPoint(Socket));
        _listener.Listen(16);
        _ = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private void Serve(Socket client)
    {
        using var _ = client;
        using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            while (ReadRequestLine(stream) is { } requestLine)
            {
                lock (_requests) _requests.Add(requestLine);
                string target = requestLine.Split(' ')[1];
                var a = _answer(target);
                var head = new StringBuilder($"HTTP/1.1 {a.Status} {(a.Status == 200 ? "OK" : "Error")}\r\nContent-Type: {a.ContentType}\r\n");
                if (a.CloseDelimited) head.Append("Connection: close\r\n");
                else head.Append($"Content-Length: {a.DeclaredLength ?? a.Body.Length}\r\n");
                head.Append("\r\n");
                stream.Write(Encoding.ASCII.GetBytes(head.ToString()));
                stream.Write(a.Body);
                stream.Flush();
                if (a.CloseDelimited || a.DeclaredLength is not null) return;   // the body ends (early) here
            }
        }
        catch (IOException) { }     // the client went away: nothing more to answer
    }

    /// <summary>The request line of the next request, its headers read and dropped (requests carry no body); null at the end.</summary>
    private static string? ReadRequestLine(Stream s)
    {
        var line = new StringBuilder();
        string? first = null;
        int b;
        while ((b = s.ReadByte()) >= 0)
        {
            if (b == '\n')
            {
                string text = line.ToString().TrimEnd('\r');
                line.Clear();
                if (first is null) { if (text.Length > 0) first = text; continue; }
                if (text.Length == 0) return first;
            }
            else line.Append((char)b);
        }
        return null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
