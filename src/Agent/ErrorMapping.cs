using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Agent;

/// <summary>
/// Engine errors as HTTP answers: {"code": "&lt;RestoreErrorCode name&gt;", "message": "..."} with the
/// status that fits. An error after the answer has started cannot be reported: the connection is
/// cut, so the client sees a truncated body rather than a complete-looking one.
/// </summary>
public static class ErrorMapping
{
    public static int StatusFor(RestoreErrorCode code) => code switch
    {
        RestoreErrorCode.InvalidPath or RestoreErrorCode.SymlinkLoop or RestoreErrorCode.NotAFile => StatusCodes.Status400BadRequest,
        RestoreErrorCode.DiskNotFound or RestoreErrorCode.BucketTypeNotFound or RestoreErrorCode.ComponentNotFound
            or RestoreErrorCode.ItemNotFound or RestoreErrorCode.ImageNotFound or RestoreErrorCode.VmNotFound => StatusCodes.Status404NotFound,
        RestoreErrorCode.MountFailed or RestoreErrorCode.UnmountFailed or RestoreErrorCode.NameInUse
            or RestoreErrorCode.AttachFailed or RestoreErrorCode.DetachFailed or RestoreErrorCode.TargetExists => StatusCodes.Status409Conflict,
        RestoreErrorCode.NotSupported => StatusCodes.Status501NotImplemented,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static async Task Write(HttpContext context, int status, string code, string message, string? target = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ErrorResponse(code, message, target),
            AgentJsonContext.Wire.ErrorResponse, context.RequestAborted);
    }

    public static RequestDelegate Middleware(RequestDelegate next, AgentLog log) => async context =>
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ex is Http.ClientGoneException || context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            // The client went away: nothing to answer, everything was released by the using blocks.
            context.Items[RequestLog.NoteKey] = "client gone";
        }
        catch (Exception ex)
        {
            var (status, code, message) = ex switch
            {
                RestoreException r => (StatusFor(r.Code), r.Code.ToString(), r.Message),
                AgentHttpException a => (a.Status, a.Code, a.Message),
                BadHttpRequestException b => (b.StatusCode, AgentCodes.BadRequest, b.Message),
                NotImplementedException n => (StatusCodes.Status501NotImplemented, nameof(RestoreErrorCode.NotSupported), "not implemented by the engine yet: " + n.Message),
                NotSupportedException n => (StatusCodes.Status501NotImplemented, nameof(RestoreErrorCode.NotSupported), n.Message),
                _ => (StatusCodes.Status500InternalServerError, AgentCodes.Internal, ex.GetType().Name + ": " + ex.Message),
            };
            if (status >= 500 && ex is not (RestoreException or AgentHttpException or NotImplementedException))
                log.Error($"{context.Request.Method} {context.Request.Path}: {ex}");
            if (context.Response.HasStarted)
            {
                context.Items[RequestLog.NoteKey] = $"cut off: {code}: {message}";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                context.Abort();
                return;
            }
            context.Response.Clear();
            context.Items[RequestLog.NoteKey] = code;
            if (ex is AgentHttpException { Headers: var headers })
                foreach (var (k, v) in headers) context.Response.Headers[k] = v;
            await Write(context, status, code, message, (ex as RestoreException)?.Target);
        }
    };
}
