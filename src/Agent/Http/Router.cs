using RestoreTools.Contract;

namespace RestoreTools.Agent.Http;

/// <summary>
/// The agent's routes: exact paths by method. The API has no path parameters (everything is in
/// the query), so a dictionary does what ASP.NET routing did, without its start-up cost: the
/// routing, minimal-API binding and DI behind it took most of the agent's 2.5 s start under TCG.
/// </summary>
public sealed class Router
{
    // Case-insensitive like ASP.NET routing, so clients see the same answers as before.
    private readonly Dictionary<string, Dictionary<string, RequestDelegate>> _routes = new(StringComparer.OrdinalIgnoreCase);

    public void Get(string path, RequestDelegate handler) => Add(HttpMethods.Get, path, handler);
    public void Post(string path, RequestDelegate handler) => Add(HttpMethods.Post, path, handler);
    public void Delete(string path, RequestDelegate handler) => Add(HttpMethods.Delete, path, handler);

    private void Add(string method, string path, RequestDelegate handler)
    {
        if (!_routes.TryGetValue(path, out var byMethod))
            _routes[path] = byMethod = new Dictionary<string, RequestDelegate>(StringComparer.OrdinalIgnoreCase);
        byMethod.Add(method, handler);
    }

    /// <summary>Runs the handler of the request's path and method; 404 or 405 (with Allow) as JSON otherwise.</summary>
    public Task Dispatch(HttpContext context)
    {
        string method = context.Request.Method;
        string path = context.Request.Path.Value is { Length: > 1 } p ? p.TrimEnd('/') : "/";
        if (_routes.TryGetValue(path, out var byMethod))
        {
            if (byMethod.TryGetValue(method, out var handler)) return handler(context);
            string allowed = string.Join(", ", byMethod.Keys);
            context.Response.Headers.Allow = allowed;
            return ErrorMapping.Write(context, StatusCodes.Status405MethodNotAllowed, AgentCodes.BadRequest,
                $"{path} takes {allowed}, not {method}");
        }
        return ErrorMapping.Write(context, StatusCodes.Status404NotFound, AgentCodes.NotFound, $"no endpoint {method} {context.Request.Path}");
    }
}
