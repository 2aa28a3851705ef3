using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

namespace RestoreTools.Agent;

/// <summary>One log line per request: method, path and query, status, bytes sent, milliseconds.</summary>
public static class RequestLog
{
    public const string NoteKey = "restore-agent.note";

    /// <summary>Body bytes an endpoint wrote past the counter (DirectChunkedBody, UncountedWriter), for the log line.</summary>
    public const string DirectBytesKey = "restore-agent.direct-bytes";

    private const string OriginalBodyKey = "restore-agent.original-body";

    /// <summary>
    /// Kestrel's own body writer, below the counting stream (which would put a copy of its own in
    /// between): for an endpoint that fills the answer's buffers itself and names its bytes under DirectBytesKey.
    /// </summary>
    public static System.IO.Pipelines.PipeWriter UncountedWriter(HttpContext context) =>
        (context.Items.TryGetValue(OriginalBodyKey, out var o) && o is IHttpResponseBodyFeature original
            ? original : context.Features.Get<IHttpResponseBodyFeature>()!).Writer;

    public static RequestDelegate Middleware(RequestDelegate next, AgentLog log) => async context =>
    {
        long start = Stopwatch.GetTimestamp();
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        var counter = new CountingStream(original.Stream);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(counter, original));
        context.Items[OriginalBodyKey] = original;
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(original);
            string note = context.Items.TryGetValue(NoteKey, out var n) ? " " + n : "";
            int status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
            long bytes = counter.Count + (context.Items.TryGetValue(DirectBytesKey, out var d) && d is long direct ? direct : 0);
            log.Info(string.Create(CultureInfo.InvariantCulture,
                $"{context.Request.Method} {context.Request.Path.Value}{context.Request.QueryString.Value} {status} {bytes} B {Stopwatch.GetElapsedTime(start).TotalMilliseconds:0} ms{note}"));
        }
    };

    /// <summary>Passes writes through and counts them.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _count;
        public long Count => Interlocked.Read(ref _count);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Interlocked.Add(ref _count, buffer.Length);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            await inner.WriteAsync(buffer, ct);
            Interlocked.Add(ref _count, buffer.Length);
        }
    }
}
