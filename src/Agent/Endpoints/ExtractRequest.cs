using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using RestoreTools.Contract;

namespace RestoreTools.Agent.Endpoints;

/// <summary>
/// The fields of an extract: from the query (GET), or from a form body (POST) with the same names,
/// for item lists longer than a request line takes. A form is bounded: at most MaxPaths paths and
/// MaxBody bytes, whatever the client says.
/// </summary>
internal sealed class ExtractRequest
{
    public const int MaxPaths = 65_536;
    public const long MaxBody = 8L << 20;

    private readonly Func<string, StringValues> _field;

    public ExtractRequest(IQueryCollection query) : this(n => query[n]) { }

    private ExtractRequest(Func<string, StringValues> field)
    {
        _field = field;
        var paths = field("path");
        if (paths.Count > MaxPaths)
            throw new AgentHttpException(StatusCodes.Status400BadRequest, AgentCodes.BadRequest, $"{paths.Count} paths: one extract takes at most {MaxPaths}");
        Paths = [.. paths.Select(p => p ?? "")];
    }

    public IReadOnlyList<string> Paths { get; }

    /// <summary>A field's last value, or null.</summary>
    public string? Get(string name) => _field(name) is { Count: > 0 } v ? v[^1] : null;

    /// <summary>Every value of a repeated field (empty ones left out), or null when there is none.</summary>
    public IReadOnlyList<string>? All(string name) =>
        _field(name).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray() is { Length: > 0 } a ? a : null;

    public static async Task<ExtractRequest> ReadForm(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
            throw new AgentHttpException(StatusCodes.Status415UnsupportedMediaType, AgentCodes.BadRequest,
                "POST extract takes a form (application/x-www-form-urlencoded) of path=, format= and the other fields");
        // The agent's 64 KiB body limit is for small calls; a list of paths may take more.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBody;
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, new Microsoft.AspNetCore.Http.Features.FormOptions
        {
            ValueCountLimit = MaxPaths + 64,
            ValueLengthLimit = 64 * 1024,
            KeyLengthLimit = 64,
            BufferBody = false,
        }));
        IFormCollection form;
        try { form = await context.Request.ReadFormAsync(context.RequestAborted); }
        catch (InvalidDataException ex)
        {
            throw new AgentHttpException(StatusCodes.Status400BadRequest, AgentCodes.BadRequest, $"the form is not one extract takes: {ex.Message}");
        }
        return new ExtractRequest(n => form[n]);
    }
}
