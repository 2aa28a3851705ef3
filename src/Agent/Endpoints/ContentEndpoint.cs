using System.Globalization;
using Microsoft.Net.Http.Headers;
using RestoreTools.Agent.Http;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;

namespace RestoreTools.Agent.Endpoints;

/// <summary>
/// content?path=: a file's bytes, with single-range Range requests (206 + Content-Range). On a Unix
/// socket a GET answer is chunked and its bytes go by sendfile (DirectChunkedBody); HEAD and other
/// transports give Content-Length.
/// </summary>
public static class ContentEndpoint
{
    public static void Map(Router router, AgentServices s) =>
        router.Get("/api/v1/content", c => Send(c, s.Engine, s.Downloads));

    private static async Task Send(HttpContext context, IRestoreEngine engine, DownloadLimiter limiter)
    {
        string path = Query.Path(context);
        var item = engine.GetItem(path);
        if (item.Type != ItemType.File)
            throw new RestoreException(RestoreErrorCode.NotAFile,
                $"'{item.Path}' is not a file: content gives a file's bytes (use extract for a tree)", path);
        long size = item.Size;
        var range = ParseRange(context.Request.Headers.Range.ToString(), size);

        using var lease = limiter.TryAcquire() ?? throw Busy(context, limiter);
        var (offset, length) = range ?? (0, size);
        // On a Unix socket a GET's bytes go by sendfile into the socket itself, as one chunk (so
        // without Content-Length; Content-Range still names the range); elsewhere through Kestrel.
        var ct = context.RequestAborted;
        var direct = HttpMethods.IsHead(context.Request.Method) ? null : DirectChunkedBody.TryCreate(context, ct);
        using var stream = direct is not null ? engine.OpenRead(path) : engine.OpenRead(path, offset, length);

        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = "application/octet-stream";
        response.Headers.ContentDisposition = Disposition(item.Name);
        response.Headers.LastModified = item.LastWriteTime is { } t ? t.ToString("R", CultureInfo.InvariantCulture) : default;
        if (direct is null) response.ContentLength = length;
        if (range is not null)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + length - 1, size).ToString();
        }
        if (HttpMethods.IsHead(context.Request.Method)) return;
        if (direct is not null)
        {
            await Task.Run(() =>
            {
                if (!direct.TryWriteFile(stream, offset, length))
                {
                    stream.Position = offset;
                    var buffer = new byte[128 * 1024];
                    for (long left = length; left > 0;)
                    {
                        int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                        if (n == 0) throw new IOException($"the file ended {left:N0} bytes short of its size");
                        direct.Write(buffer, 0, n);
                        left -= n;
                    }
                }
                direct.Flush();
            }, ct);
        }
        else await Copy(stream, RequestLog.UncountedWriter(context), length, ct);
        context.Items[RequestLog.DirectBytesKey] = length;
    }

    /// <summary>
    /// The file read straight into the answer's own buffers (the engine's stream reads with pread),
    /// 128 KiB at a time: no copy between a buffer of ours and Kestrel's.
    /// </summary>
    private static async Task Copy(Stream source, System.IO.Pipelines.PipeWriter body, long length, CancellationToken ct)
    {
        for (long left = length; left > 0;)
        {
            var memory = body.GetMemory((int)Math.Min(left, 128 * 1024));
            int n = source.Read(memory.Span[..(int)Math.Min(memory.Length, left)]);
            if (n == 0) throw new IOException($"the file ended {left:N0} bytes short of its size");
            body.Advance(n);
            left -= n;
            var flushed = await body.FlushAsync(ct);
            if (flushed.IsCanceled || flushed.IsCompleted) throw new OperationCanceledException(ct);
        }
    }

    /// <summary>
    /// One byte range (bytes=a-b, bytes=a-, bytes=-n) as offset and length; null for no Range or
    /// one this endpoint does not honour (several ranges, other units): then the whole file goes.
    /// </summary>
    internal static (long Offset, long Length)? ParseRange(string header, long size)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        if (!RangeHeaderValue.TryParse(header, out var parsed) || !"bytes".Equals(parsed.Unit.Value, StringComparison.OrdinalIgnoreCase)
            || parsed.Ranges.Count != 1)
            return null;
        var r = parsed.Ranges.First();
        long from, to;
        if (r.From is null)
        {
            long suffix = r.To ?? 0;
            if (suffix <= 0 || size == 0) throw Unsatisfiable(header, size);
            from = Math.Max(0, size - suffix);
            to = size - 1;
        }
        else
        {
            from = r.From.Value;
            to = Math.Min(r.To ?? size - 1, size - 1);
            if (from >= size || to < from) throw Unsatisfiable(header, size);
        }
        return (from, to - from + 1);
    }

    private static AgentHttpException Unsatisfiable(string header, long size) =>
        new(StatusCodes.Status416RangeNotSatisfiable, AgentCodes.RangeNotSatisfiable, $"range '{header}' is outside the file ({size} bytes)")
        { Headers = { ["Content-Range"] = $"bytes */{size}" } };

    internal static AgentHttpException Busy(HttpContext context, DownloadLimiter limiter)
    {
        return new AgentHttpException(StatusCodes.Status503ServiceUnavailable, AgentCodes.Busy,
            $"too many downloads: {limiter.Max} are running; try again")
        { Headers = { ["Retry-After"] = "1" } };
    }

    internal static string Disposition(string name) =>
        new ContentDispositionHeaderValue("attachment") { FileNameStar = name, FileName = AsciiName(name) }.ToString();

    private static string AsciiName(string name)
    {
        var ascii = new string(name.Select(c => c is >= ' ' and < (char)0x7F and not '"' and not '\\' ? c : '_').ToArray());
        return "\"" + (ascii.Length == 0 ? "download" : ascii) + "\"";
    }
}
