using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Paths;

namespace RestoreTools.Contract;

/// <summary>
/// IRestoreEngine over a restore-agent: the module's remote mode speaks the same interface as its
/// local mode. Endpoints: "unix:/path/agent.sock", "vsock:CID[:PORT]", "tcp:HOST:PORT",
/// "virtio-serial:/vm/folder" (a restore VM's ports, VirtioSerialConnector) or an http:// URI. JSON errors come back as RestoreException with the agent's RestoreErrorCode;
/// what is not an engine error (401, 503, a broken answer) is an AgentException.
/// </summary>
public sealed class AgentClient : IRestoreEngine
{
    private static readonly AgentJsonContext Json = AgentJsonContext.Wire;
    private readonly HttpClient _http;
    // On a Unix socket, downloads (content, raw extract) go on connections of their own (UnixDownload).
    private readonly string? _socketPath;
    private readonly string? _token;
    private bool _disposed;

    /// <summary>Time allowed for each small JSON call (downloads and listings are not limited).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    public Uri BaseAddress => _http.BaseAddress!;

    public AgentClient(string endpoint, string? token = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        Uri baseAddress;
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = endpoint["unix:".Length..];
            _socketPath = path;
            handler.ConnectCallback = (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    // A synchronous connect (immediate on a Unix socket) leaves the socket in blocking
                    // mode: the client's synchronous reads then block in recv instead of spinning on
                    // .NET's emulation of blocking reads over epoll.
                    ct.ThrowIfCancellationRequested();
                    socket.Connect(new UnixDomainSocketEndPoint(path));
                    return ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            baseAddress = new Uri("http://restore-agent/");
        }
        else if (endpoint.StartsWith("vsock:", StringComparison.Ordinal))
        {
            var parts = endpoint["vsock:".Length..].Split(':');
            if (parts.Length is < 1 or > 2 || !uint.TryParse(parts[0], out uint cid))
                throw new ArgumentException($"'{endpoint}': expected vsock:CID[:PORT]", nameof(endpoint));
            uint port = parts.Length == 2 ? uint.Parse(parts[1]) : VsockEndPoint.DefaultPort;
            var ep = new VsockEndPoint(cid, port);
            handler.ConnectCallback = (_, ct) => new ValueTask<Stream>(Task.Run(() => VsockSocket.Connect(ep), ct));
            baseAddress = new Uri("http://restore-agent/");
        }
        else if (endpoint.StartsWith("virtio-serial:", StringComparison.Ordinal))
        {
            var ports = new VirtioSerialConnector(endpoint["virtio-serial:".Length..]);
            handler.ConnectCallback = (_, ct) => ports.ConnectAsync(ct);
            baseAddress = new Uri("http://restore-agent/");
        }
        else if (endpoint.StartsWith("tcp:", StringComparison.Ordinal))
        {
            baseAddress = new Uri("http://" + endpoint["tcp:".Length..] + "/");
        }
        else if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            baseAddress = uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
        }
        else
        {
            throw new ArgumentException($"'{endpoint}': expected unix:/path, vsock:CID[:PORT], virtio-serial:/dir, tcp:HOST:PORT or http://HOST:PORT", nameof(endpoint));
        }

        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (token.Any(char.IsControl)) throw new ArgumentException("the token holds control characters", nameof(token));
            _token = token;
        }
    }

    /// <summary>A client whose token is read from the agent's --token-file.</summary>
    public static AgentClient WithTokenFile(string endpoint, string tokenFile) =>
        new(endpoint, File.ReadAllText(tokenFile).Trim());

    // ---- the agent's own calls ----

    /// <summary>Whether the agent answers at all (the liveness status needs no token).</summary>
    public bool IsAlive(TimeSpan? timeout = null)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(2));
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/status");
            request.Headers.Authorization = null;
            using var response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            return true;   // any HTTP answer (a wrong token's 401 too) means the agent is there
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or SocketException)
        {
            return false;
        }
    }

    public StatusResponse GetStatus() => Call(HttpMethod.Get, "status", Json.StatusResponse);

    /// <summary>Asks the agent to exit (it answers first).</summary>
    public void Stop() => Call(HttpMethod.Post, "stop", Json.OkResponse);

    // ---- IRestoreEngine ----

    public IReadOnlyList<RestoreDisk> GetDisks() => Call(HttpMethod.Get, "disks", Json.IReadOnlyListRestoreDisk);

    public RestoreDisk AttachImage(string imagePath, string? name = null) =>
        Call(HttpMethod.Post, "images" + Q("path", imagePath) + (name is null ? "" : "&name=" + Uri.EscapeDataString(name)), Json.RestoreDisk);

    public void DetachImage(string diskName) => Call(HttpMethod.Delete, "images" + Q("name", diskName), Json.OkResponse);

    public IReadOnlyList<RestoreBucket> GetBuckets(string? diskName = null) =>
        Call(HttpMethod.Get, "buckets" + (diskName is null ? "" : Q("disk", diskName)), Json.IReadOnlyListRestoreBucket);

    public RestoreBucket GetBucket(string bucketPath) => Call(HttpMethod.Get, "bucket" + Q("path", bucketPath), Json.RestoreBucket);

    public RestoreBucket Mount(string bucketPath) => Call(HttpMethod.Post, "mount" + Q("path", bucketPath), Json.RestoreBucket);

    public RestoreBucket Unmount(string bucketPath) => Call(HttpMethod.Post, "unmount" + Q("path", bucketPath), Json.RestoreBucket);

    public ResolvedPath Resolve(string restorePath) => Call(HttpMethod.Get, "resolve" + Q("path", restorePath), Json.ResolvedPath);

    public RestoreItem GetItem(string restorePath) => Call(HttpMethod.Get, "item" + Q("path", restorePath), Json.RestoreItem);

    /// <summary>Streams the agent's JSON array: entries arrive as the agent reads the folder.</summary>
    public IEnumerable<RestoreItem> List(string restorePath, CancellationToken cancellationToken = default)
    {
        using var response = Send(HttpMethod.Get, "list" + Q("path", restorePath), null, cancellationToken);
        using var stream = response.Content.ReadAsStream(cancellationToken);
        var items = JsonSerializer.DeserializeAsyncEnumerable(stream, Json.RestoreItem, cancellationToken).ToBlockingEnumerable(cancellationToken);
        using var e = items.GetEnumerator();
        while (true)
        {
            try
            {
                if (!e.MoveNext()) yield break;
            }
            catch (JsonException ex)
            {
                throw new IOException($"the listing of '{restorePath}' was cut off: {ex.Message}", ex);
            }
            if (e.Current is { } item) yield return item;
        }
    }

    public Stream OpenRead(string restorePath, long offset = 0, long? length = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0) throw new ArgumentOutOfRangeException(nameof(length));
        if (length == 0)
        {
            GetItem(restorePath);   // the same errors for a bad path
            return Stream.Null;
        }
        if (_socketPath is not null) return Download(restorePath, offset, length);
        var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/content" + Q("path", restorePath));
        if (offset > 0 || length is not null)
            request.Headers.Range = new RangeHeaderValue(offset, length is { } l ? offset + l - 1 : null);
        var response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            response.Dispose();
            return Stream.Null;   // past the end: nothing to read, as a local file gives
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response) throw ErrorFrom(response);
        }
        return new ResponseStream(response, response.Content.ReadAsStream());
    }

    /// <summary>
    /// content on a connection of its own (UnixDownload): read with one recv per Read, and copied
    /// into a file or pipe (CopyTo) by splice. A range answer must start where asked and hold no more.
    /// </summary>
    private Stream Download(string restorePath, long offset, long? length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string? range = offset > 0 || length is not null
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"bytes={offset}-{(length is { } l ? offset + l - 1 : null)}")
            : null;
        var download = Open("content" + Q("path", restorePath), range, default);
        try
        {
            if (download.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                download.Dispose();
                return Stream.Null;
            }
            var answered = download.Head.ContentRange();
            if (range is not null && (download.Status != (int)HttpStatusCode.PartialContent || answered is null || answered.Value.First != offset))
                throw ResponseHead.Bad($"bytes from {offset:N0} were asked for, and the answer is {download.Status} {download.Head["Content-Range"] ?? "without Content-Range"}", download.Status);
            long max = length ?? long.MaxValue;
            download.Limit(max, answered?.Length ?? download.Head.ContentLength,
                total => ResponseHead.Bad($"the agent sends {total:N0} bytes where {max:N0} were asked for", download.Status));
            return download;
        }
        catch
        {
            download.Dispose();
            throw;
        }
    }

    /// <summary>GET api/v1/relative on a connection of its own; an error answer (but a range's 416) becomes the exception it stands for.</summary>
    private UnixDownload Open(string relative, string? range, CancellationToken cancellationToken)
    {
        var download = UnixDownload.Open(_socketPath!, "/api/v1/" + relative, _token, range, cancellationToken);
        if (download.Status is >= 200 and < 300 || (range is not null && download.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)) return download;
        using (download)
        {
            string body;
            try
            {
                // An error's JSON is small: 64 KiB of it at most.
                download.Limit(64 * 1024, null, _ => ResponseHead.Bad("an error answer longer than 64 KiB", download.Status));
                using var reader = new StreamReader(download, Encoding.UTF8, leaveOpen: true);
                body = reader.ReadToEnd();
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or AgentException)
            {
                throw new AgentException(download.Status, "Internal", $"HTTP {download.Status}, body unreadable: {ex.Message}", ex);
            }
            throw ErrorFrom(download.Status, download.Head.Reason, body);
        }
    }

    /// <summary>
    /// The agent's extract, copied to output. Its counts and the entries it left out come from the
    /// report the agent keeps for the extract (fetched after the body: HTTP/1.1 has no trailers here),
    /// and are passed to the options' OnError and OnWarning as a local export passes them.
    /// </summary>
    public ExportResult Export(string restorePath, Stream output, ExportOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // The agent skips files that pass the free space here (space=); a hostile one that does not is cut off below.
        string space = options.SpaceAvailable is { } free ? "&space=" + free.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        string xattrs = options.Xattrs ? "&xattrs=1" : "";
        string query = "extract" + Q("path", restorePath) + "&format=" + FormatName(options.Format) + space + xattrs + Filters(options);
        if (_socketPath is not null)
            return ReceiveDirect(query, restorePath, output, options, progress, cancellationToken);
        using var response = Send(HttpMethod.Get, query, null, cancellationToken);
        return Receive(response, restorePath, $"'{restorePath}'", output, options, progress, cancellationToken);
    }

    /// <summary>
    /// Several items into one archive through the agent's extract: POSTed as a form (path= once per
    /// item), as a query of thousands of paths would pass the request line's limit. One path is a
    /// plain GET, which agents from before this form also answer.
    /// </summary>
    public ExportResult Export(IReadOnlyList<string> restorePaths, Stream output, ExportOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restorePaths);
        if (restorePaths.Count == 1) return Export(restorePaths[0], output, options, progress, cancellationToken);
        ExportRoots.CheckCount(restorePaths.Count, options.Format);
        var fields = new List<KeyValuePair<string, string>>(restorePaths.Count + 8);
        foreach (var p in restorePaths) fields.Add(new("path", p));
        fields.Add(new("format", FormatName(options.Format)));
        if (options.SpaceAvailable is { } free) fields.Add(new("space", free.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (options.Xattrs) fields.Add(new("xattrs", "1"));
        fields.AddRange(FilterFields(options));
        using var response = Send(HttpMethod.Post, "extract", new FormUrlEncodedContent(fields), cancellationToken);
        return Receive(response, restorePaths[0], $"{restorePaths.Count} items", output, options, progress, cancellationToken);
    }

    /// <summary>An extract's body copied to output (never past the free space named), then its report; what names the items in messages.</summary>
    private ExportResult Receive(HttpResponseMessage response, string restorePath, string what, Stream output, ExportOptions options, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        using var input = response.Content.ReadAsStream(cancellationToken);
        long bytes = 0;
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (options.SpaceAvailable is { } limit && bytes + n > limit)
                throw new RestoreException(RestoreErrorCode.WriteFailed,
                    $"the agent's archive of {what} passed the {limit:N0} bytes free at the destination: stopped", restorePath);
            output.Write(buffer, 0, n);
            bytes += n;
            progress?.Report(new TransferProgress(bytes, 0, restorePath));
        }
        var report = Report(response.Headers.TryGetValues(ReportHeader, out var ids) ? ids.FirstOrDefault() : null, options);
        return report is null ? new ExportResult(bytes, 0, 0, 0, []) : report with { Bytes = bytes };
    }

    /// <summary>
    /// An extract on a connection of its own (UnixDownload): into a file or pipe by splice (a raw
    /// file's one chunk, an archive's 64 KiB chunks), else copied; a chunk that would pass the free
    /// space named is refused before any byte of it is written.
    /// </summary>
    private ExportResult ReceiveDirect(string query, string restorePath, Stream output, ExportOptions options, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        using var download = Open(query, null, cancellationToken);
        long limit = options.SpaceAvailable ?? long.MaxValue;
        download.Limit(limit, download.Head.ContentLength, _ => new RestoreException(RestoreErrorCode.WriteFailed,
            $"the agent's archive of '{restorePath}' passed the {limit:N0} bytes free at the destination: stopped", restorePath));
        long bytes = download.Drain(output, progress is null ? null : n => progress.Report(new TransferProgress(n, 0, restorePath)), cancellationToken);
        var report = Report(download.Head[ReportHeader], options);
        return report is null ? new ExportResult(bytes, 0, 0, 0, []) : report with { Bytes = bytes };
    }

    /// <summary>
    /// The agent's tar of the path, written into destination by the engine's own copier: into an
    /// existing folder under the item's name, otherwise to that path; modes, mtimes and links kept,
    /// nothing overwritten without Force, never written through a link already there.
    /// </summary>
    public ExportResult Copy(string restorePath, string destination, CopyOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var resolved = Resolve(restorePath);
        if (resolved.Kind is not (ResolvedKind.Bucket or ResolvedKind.Item))
            throw new RestoreException(RestoreErrorCode.InvalidPath, $"'{resolved.Path}' is not inside a bucket: copy takes /disk/type/component[/path]", restorePath);
        // Only a folder is flattened (-Container:$false); a file is copied as always.
        if (!options.Container && resolved.Kind == ResolvedKind.Item && GetItem(restorePath).Type != ItemType.Directory)
            options = options with { Container = true };
        // An archive of a folder or file holds it under its name; of a bucket's root, its entries at the top.
        // Paths come readable (raw bytes as \xHH); the archive holds the name's bytes (NameCodec).
        string rootName = resolved.RelativePath is null or "/" ? "" : resolved.RelativePath[(resolved.RelativePath.LastIndexOf('/') + 1)..];
        rootName = NameCodec.Parse(rootName) ?? rootName;
        using var response = Send(HttpMethod.Get, "extract" + Q("path", restorePath) + "&format=tar" + (options.Xattrs ? "&xattrs=1" : "") + Filters(options), null, cancellationToken);
        using var input = response.Content.ReadAsStream(cancellationToken);
        ExportResult copied;
        try
        {
            copied = TreeCopy.FromTar(input, rootName, destination, options, progress, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            throw new AgentException(200, "BadArchive", $"the agent's archive of '{restorePath}' is unusable: {ex.Message}", ex);
        }
        // What the agent could not read never reached the archive: its report names it. The report is
        // stored before the body ends, so the body is read to its end first (what follows the tar's end
        // blocks is padding; an agent that keeps sending past 1 MiB of it gets no hearing).
        var rest = new byte[64 * 1024];
        long drained = 0;
        int got;
        while (drained < 1 << 20 && (got = input.Read(rest)) > 0) drained += got;
        var report = drained < 1 << 20 ? Report(response.Headers.TryGetValues(ReportHeader, out var ids) ? ids.FirstOrDefault() : null, options) : null;
        return report is null ? copied : copied with
        {
            Errors = [.. report.Errors, .. copied.Errors],
            Warnings = [.. report.Warnings ?? [], .. copied.Warnings ?? []],
        };
    }

    /// <summary>
    /// The agent's report of an extract whose body was read to its end: its errors and warnings go to
    /// the options' callbacks. Null from an agent without reports (or one that lost it): the copy stands.
    /// </summary>
    private ExportResult? Report(string? reportId, ExportOptionsBase options)
    {
        if (reportId is not { Length: > 0 and <= 64 } id) return null;
        ExportResult report;
        try { report = Call(HttpMethod.Get, "extract/report" + Q("id", id), Json.ExportResult); }
        catch (AgentException) { return null; }
        foreach (var e in report.Errors) { var (p, r) = Split(e); options.OnError?.Invoke(p, r); }
        foreach (var w in report.Warnings ?? []) { var (p, r) = Split(w); options.OnWarning?.Invoke(p, r); }
        return report;

        static (string, string) Split(string line) => line.IndexOf(": ", StringComparison.Ordinal) is int i and > 0 ? (line[..i], line[(i + 2)..]) : ("", line);
    }

    private const string ReportHeader = "X-Restore-Export";

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _http.Dispose();
    }

    // ---- plumbing ----

    public static string FormatName(ExportFormat format) => format switch
    {
        ExportFormat.Tar => "tar",
        ExportFormat.TarGz => "targz",
        ExportFormat.TarZst => "tarzst",
        ExportFormat.Zip => "zip",
        _ => "raw",
    };

    /// <summary>The name wildcards of a tree walk (include=, exclude= once per pattern, filter=), as the agent's extract takes them.</summary>
    private static IEnumerable<KeyValuePair<string, string>> FilterFields(ExportOptionsBase options)
    {
        foreach (var p in options.Include ?? []) yield return new("include", p);
        foreach (var p in options.Exclude ?? []) yield return new("exclude", p);
        if (!string.IsNullOrEmpty(options.Filter)) yield return new("filter", options.Filter);
    }

    private static string Filters(ExportOptionsBase options) =>
        string.Concat(FilterFields(options).Select(f => "&" + f.Key + "=" + Uri.EscapeDataString(f.Value)));

    private static string Q(string name, string value) => "?" + name + "=" + Uri.EscapeDataString(value);

    private T Call<T>(HttpMethod method, string relative, JsonTypeInfo<T> type)
    {
        using var cts = new CancellationTokenSource(RequestTimeout);
        using var response = Send(method, relative, null, cts.Token);
        using var stream = response.Content.ReadAsStream(cts.Token);
        try
        {
            return JsonSerializer.Deserialize(stream, type)
                ?? throw new AgentException((int)response.StatusCode, "Internal", $"{relative}: the agent answered null");
        }
        catch (JsonException ex)
        {
            throw new AgentException((int)response.StatusCode, "Internal", $"{relative}: the agent's answer is not the expected JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Sends one request; a non-success answer becomes the exception it stands for.</summary>
    private HttpResponseMessage Send(HttpMethod method, string relative, HttpContent? content, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var request = new HttpRequestMessage(method, "api/v1/" + relative) { Content = content };
        var response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode) return response;
        using (response) throw ErrorFrom(response);
    }

    /// <summary>{"code","message"} back to RestoreException (engine codes) or AgentException (the rest).</summary>
    public static Exception ErrorFrom(HttpResponseMessage response)
    {
        int status = (int)response.StatusCode;
        string body;
        try
        {
            using var stream = response.Content.ReadAsStream();
            using var reader = new StreamReader(stream, Encoding.UTF8);
            body = reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return new AgentException(status, "Internal", $"HTTP {status}, body unreadable: {ex.Message}", ex);
        }
        return ErrorFrom(status, response.ReasonPhrase, body);
    }

    /// <summary>An error answer's status and body back to the exception it stands for.</summary>
    internal static Exception ErrorFrom(int status, string? reason, string body)
    {
        ErrorResponse? error = null;
        try { error = JsonSerializer.Deserialize(body, Json.ErrorResponse); }
        catch (JsonException) { }
        if (error is null)
            return new AgentException(status, "Internal", $"HTTP {status} {reason}: {Truncate(body)}");
        if (Enum.TryParse<RestoreErrorCode>(error.Code, ignoreCase: false, out var code) && Enum.IsDefined(code) && !int.TryParse(error.Code, out _))
            return new RestoreException(code, error.Message, error.Target);
        return new AgentException(status, error.Code, error.Message);
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "...";

    /// <summary>The body stream of a response that lives as long as the stream.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.Content.Headers.ContentLength ?? throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.ReadAsync(buffer, offset, count, ct);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); response.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
