using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Agent.Endpoints;

/// <summary>The small JSON answers: disks, buckets, bucket, resolve, item, mount, unmount.</summary>
public static class BrowseEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var json = AgentJsonContext.Default;
        app.MapGet("/api/v1/disks", (IRestoreEngine engine) =>
            Results.Json(engine.GetDisks(), json.IReadOnlyListRestoreDisk));
        app.MapGet("/api/v1/buckets", (HttpContext context, IRestoreEngine engine) =>
            Results.Json(engine.GetBuckets(Query.Get(context, "disk") is { Length: > 0 } d ? d : null), json.IReadOnlyListRestoreBucket));
        app.MapGet("/api/v1/bucket", (HttpContext context, IRestoreEngine engine) =>
            Results.Json(engine.GetBucket(Query.Path(context)), json.RestoreBucket));
        app.MapGet("/api/v1/resolve", (HttpContext context, IRestoreEngine engine) =>
            Results.Json(engine.Resolve(Query.Path(context)), json.ResolvedPath));
        app.MapGet("/api/v1/item", (HttpContext context, IRestoreEngine engine) =>
            Results.Json(engine.GetItem(Query.Path(context)), json.RestoreItem));
        app.MapPost("/api/v1/mount", (HttpContext context, IRestoreEngine engine) =>
            Results.Json(engine.Mount(Query.Path(context)), json.RestoreBucket));
        app.MapPost("/api/v1/unmount", (HttpContext context, IRestoreEngine engine) =>
            Results.Json(engine.Unmount(Query.Path(context)), json.RestoreBucket));
    }
}
