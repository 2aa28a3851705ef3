using System.Text.Json.Serialization.Metadata;

namespace RestoreTools.Agent.Http;

/// <summary>A JSON answer from the source-generated contract types (no reflection, AOT-safe).</summary>
public static class JsonResponse
{
    public static Task Write<T>(HttpContext context, T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(value, type, contentType: null, context.RequestAborted);
    }
}
