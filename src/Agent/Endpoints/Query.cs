namespace RestoreTools.Agent.Endpoints;

/// <summary>Query parameters as the engine takes them: a missing path reaches the engine as null (InvalidPath).</summary>
internal static class Query
{
    public static string? Get(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        return values.Count == 0 ? null : values[^1];
    }

    public static string Path(HttpContext context) => Get(context, "path")!;
}
