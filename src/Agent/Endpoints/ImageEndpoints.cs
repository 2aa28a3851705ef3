using RestoreTools.Agent.Http;
using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Agent.Endpoints;

/// <summary>
/// POST images?path=&amp;name= attaches an image, DELETE images?name= detaches it: on a host only.
/// The engine refuses anything but a regular file or a block device without waiting on it, and
/// with --image-root (EngineOptions.ImageRoot) anything outside that folder or through a symlink.
/// </summary>
public static class ImageEndpoints
{
    public static void Map(Router router, AgentServices s)
    {
        router.Post("/api/v1/images", context =>
        {
            HostOnly(s.EngineOptions);
            string? path = Query.Get(context, "path");
            if (string.IsNullOrEmpty(path))
                throw new RestoreException(RestoreErrorCode.ImageNotFound, "no image path given (images?path=/file.img&name=NAME)");
            string? name = Query.Get(context, "name") is { Length: > 0 } n ? n : null;
            var disk = s.Engine.AttachImage(path, name);
            return JsonResponse.Write(context, disk, AgentJsonContext.Wire.RestoreDisk, StatusCodes.Status201Created);
        });
        router.Delete("/api/v1/images", context =>
        {
            HostOnly(s.EngineOptions);
            string? name = Query.Get(context, "name");
            if (string.IsNullOrEmpty(name))
                throw new RestoreException(RestoreErrorCode.DiskNotFound, "no image name given (images?name=NAME)");
            s.Engine.DetachImage(name);
            return JsonResponse.Write(context, new OkResponse(true, $"detached '{name}'"), AgentJsonContext.Wire.OkResponse);
        });
    }

    private static void HostOnly(EngineOptions options)
    {
        if (options.ScanVirtio)
            throw new RestoreException(RestoreErrorCode.NotSupported, "images are attached on a host only: inside a restore VM the disks are the VM's virtio disks");
    }
}
