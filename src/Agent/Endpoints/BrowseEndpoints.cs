using RestoreTools.Agent.Http;
using RestoreTools.Contract;

namespace RestoreTools.Agent.Endpoints;

/// <summary>The small JSON answers: disks, buckets, bucket, resolve, item, mount, unmount.</summary>
public static class BrowseEndpoints
{
    public static void Map(Router router, AgentServices s)
    {
        var json = AgentJsonContext.Wire;
        var engine = s.Engine;
        router.Get("/api/v1/disks", c => JsonResponse.Write(c, engine.GetDisks(), json.IReadOnlyListRestoreDisk));
        router.Get("/api/v1/buckets", c =>
            JsonResponse.Write(c, engine.GetBuckets(Query.Get(c, "disk") is { Length: > 0 } d ? d : null), json.IReadOnlyListRestoreBucket));
        router.Get("/api/v1/bucket", c => JsonResponse.Write(c, engine.GetBucket(Query.Path(c)), json.RestoreBucket));
        router.Get("/api/v1/resolve", c => JsonResponse.Write(c, engine.Resolve(Query.Path(c)), json.ResolvedPath));
        router.Get("/api/v1/item", c => JsonResponse.Write(c, engine.GetItem(Query.Path(c)), json.RestoreItem));
        router.Post("/api/v1/mount", c => JsonResponse.Write(c, engine.Mount(Query.Path(c)), json.RestoreBucket));
        router.Post("/api/v1/unmount", c => JsonResponse.Write(c, engine.Unmount(Query.Path(c)), json.RestoreBucket));
    }
}
