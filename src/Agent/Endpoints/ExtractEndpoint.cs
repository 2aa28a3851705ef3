using Microsoft.AspNetCore.Http.Features;
using RestoreTools.Agent.Http;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;

namespace RestoreTools.Agent.Endpoints;

/// <summary>
/// extract?path=&amp;format=tar|targz|tarzst|zip|raw[&amp;space=BYTES]: a file or tree streamed as an
/// archive while the engine writes it. path= given several times (or POSTed as a form, for lists
/// longer than a request line takes) puts every item into one archive, each under its own name.
/// include=/exclude= (once per name wildcard) and filter= pick the files of the walk by name.
/// The first 64 KiB are held back, so an error early on is still a JSON error; after that an
/// error cuts the connection. On a Unix socket the body is written into the socket itself
/// (DirectChunkedBody; a raw file by sendfile). A client that goes away cancels the export.
/// xattrs=1 carries extended attributes (SCHILY.xattr records). space= is the client's free space: a file that would pass it is left out with the sizes named.
/// The answer's X-Restore-Export header names the report (counts, entries left out, warnings) that
/// extract/report?id= gives once the body has ended.
/// </summary>
public static class ExtractEndpoint
{
    public static void Map(Router router, AgentServices s)
    {
        var log = s.Log.For("RestoreTools.Agent.Extract");
        router.Get("/api/v1/extract", c => Send(c, new ExtractRequest(c.Request.Query), s.Engine, s.Downloads, s.Reports, log));
        // Several paths as a form body: a request line holds 8 KiB, a pipeline's items may not fit in it.
        router.Post("/api/v1/extract", async c => await Send(c, await ExtractRequest.ReadForm(c), s.Engine, s.Downloads, s.Reports, log));
        router.Get("/api/v1/extract/report", c =>
        {
            string id = Query.Get(c, "id") ?? "";
            var report = s.Reports.Take(id) ?? throw new AgentHttpException(StatusCodes.Status404NotFound, AgentCodes.NotFound,
                $"no report '{id}': it was fetched already, is not finished, or is too old");
            return JsonResponse.Write(c, report, AgentJsonContext.Wire.ExportResult);
        });
    }

    /// <summary>The answer's header naming its report.</summary>
    public const string ReportHeader = "X-Restore-Export";

    public static ExportFormat ParseFormat(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "tar" => ExportFormat.Tar,
        "targz" or "tar.gz" or "tgz" => ExportFormat.TarGz,
        "tarzst" or "tar.zst" or "tzst" => ExportFormat.TarZst,
        "zip" => ExportFormat.Zip,
        "raw" or "plain" => ExportFormat.Raw,
        _ => throw new AgentHttpException(StatusCodes.Status400BadRequest, AgentCodes.BadRequest,
            $"format '{value}' is not one of tar, targz, tarzst, zip, raw"),
    };

    public static (string ContentType, string Extension) Describe(ExportFormat format) => format switch
    {
        ExportFormat.Tar => ("application/x-tar", ".tar"),
        ExportFormat.TarGz => ("application/gzip", ".tar.gz"),
        ExportFormat.TarZst => ("application/zstd", ".tar.zst"),
        ExportFormat.Zip => ("application/zip", ".zip"),
        _ => ("application/octet-stream", ""),
    };

    private static async Task Send(HttpContext context, ExtractRequest request, IRestoreEngine engine, DownloadLimiter limiter, ExportReports reports, AgentLog log)
    {
        var paths = request.Paths;
        var format = ParseFormat(request.Get("format"));
        long? space = request.Get("space") is { Length: > 0 } sp
            ? long.TryParse(sp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v
                : throw new AgentHttpException(StatusCodes.Status400BadRequest, AgentCodes.BadRequest, $"space '{sp}' is not a number of bytes")
            : null;
        string path = paths.Count == 1 ? paths[0] : $"{paths.Count} items";
        using var lease = limiter.TryAcquire() ?? throw ContentEndpoint.Busy(context, limiter);

        var ct = context.RequestAborted;
        var (contentType, extension) = Describe(format);
        string name = paths.Count == 1 ? paths[0].TrimEnd('/').Split('/').LastOrDefault(s => s.Length > 0) ?? "restore" : "restore";
        context.Response.ContentType = contentType;
        context.Response.Headers.ContentDisposition = ContentEndpoint.Disposition(name + extension);
        string reportId = ExportReports.NewId();
        context.Response.Headers[ReportHeader] = reportId;

        // The engine writes synchronously, on a pool thread of its own.
        context.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
        // xattrs=1: extended attributes into the tar as GNU tar's --xattrs writes them.
        bool xattrs = request.Get("xattrs") is "1" or "true";
        var options = new ExportOptions(format)
        {
            SpaceAvailable = space,
            Xattrs = xattrs,
            Include = request.All("include"),
            Exclude = request.All("exclude"),
            Filter = request.Get("filter"),
        };
        // On a Unix socket the body goes into the socket itself (a raw file by sendfile); elsewhere through Kestrel.
        var direct = DirectChunkedBody.TryCreate(context, ct);
        Stream body = direct is not null ? direct : new BufferedStream(context.Response.Body, 64 * 1024);
        try
        {
            // No path reaches the engine as null (InvalidPath); one is the single-item export agents always gave.
            var result = await Task.Run(() => paths.Count <= 1
                ? engine.Export(paths.Count == 0 ? null! : paths[0], body, options, null, ct)
                : engine.Export(paths, body, options, null, ct), ct);
            // Stored before the last bytes go out: a client that has read the body to its end finds the report.
            reports.Add(reportId, result);
            await body.FlushAsync(ct);
            context.Items[RequestLog.NoteKey] = $"{result.Files} files, {result.Directories} dirs, {result.Errors.Count} errors";
            if (result.Errors.Count > 0)
            {
                foreach (var e in result.Errors.Take(20)) log.Warn($"extract {path}: {e}");
            }
        }
        finally
        {
            if (direct is not null) context.Items[RequestLog.DirectBytesKey] = direct.Sent;
        }
    }
}
