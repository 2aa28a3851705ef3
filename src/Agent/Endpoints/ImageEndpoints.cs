using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Agent.Endpoints;

/// <summary>POST images?path=&amp;name= attaches an image, DELETE images?name= detaches it: on a host only.</summary>
public static class ImageEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/images", (HttpContext context, IRestoreEngine engine, EngineOptions options) =>
        {
            HostOnly(options);
            string? path = Query.Get(context, "path");
            if (string.IsNullOrEmpty(path))
                throw new RestoreException(RestoreErrorCode.ImageNotFound, "no image path given (images?path=/file.img&name=NAME)");
            string? name = Query.Get(context, "name") is { Length: > 0 } n ? n : null;
            var disk = engine.AttachImage(path, name);
            return Results.Json(disk, AgentJsonContext.Default.RestoreDisk, statusCode: StatusCodes.Status201Created);
        });
        app.MapDelete("/api/v1/images", (HttpContext context, IRestoreEngine engine, EngineOptions options) =>
        {
            HostOnly(options);
            string? name = Query.Get(context, "name");
            if (string.IsNullOrEmpty(name))
                throw new RestoreException(RestoreErrorCode.DiskNotFound, "no image name given (images?name=NAME)");
            engine.DetachImage(name);
            return Results.Json(new OkResponse(true, $"detached '{name}'"), AgentJsonContext.Default.OkResponse);
        });
    }

    private static void HostOnly(EngineOptions options)
    {
        if (options.ScanVirtio)
            throw new RestoreException(RestoreErrorCode.NotSupported, "images are attached on a host only: inside a restore VM the disks are the VM's virtio disks");
    }
}
