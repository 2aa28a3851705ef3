using System.Diagnostics;
using System.Reflection;
using RestoreTools.Agent.Auth;
using RestoreTools.Agent.Http;
using RestoreTools.Contract;

namespace RestoreTools.Agent.Endpoints;

/// <summary>status (liveness without a token, full status with it) and stop.</summary>
public static class StatusEndpoints
{
    private static readonly long Started = Stopwatch.GetTimestamp();

    public static string Version { get; } =
        typeof(StatusEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static void Map(Router router, AgentServices s)
    {
        router.Get("/api/v1/status", context =>
        {
            if (!TokenAuth.IsAuthenticated(context))
                return JsonResponse.Write(context, new LivenessResponse(true), AgentJsonContext.Wire.LivenessResponse);
            var status = new StatusResponse(
                Ok: true,
                Version: Version,
                UptimeSeconds: Math.Round(Stopwatch.GetElapsedTime(Started).TotalSeconds, 3),
                IdleTimeoutSeconds: s.Watchdog.Timeout?.TotalSeconds,
                IdleSeconds: Math.Round(s.Watchdog.IdleFor.TotalSeconds, 3),
                Disks: s.Engine.GetDisks().Count,
                ActiveRequests: s.Watchdog.Active,
                ActiveDownloads: s.Downloads.Active,
                MaxDownloads: s.Downloads.Max,
                RestoreVm: s.EngineOptions.ScanVirtio,
                ProcessId: Environment.ProcessId);
            return JsonResponse.Write(context, status, AgentJsonContext.Wire.StatusResponse);
        });

        router.Post("/api/v1/stop", context =>
        {
            // Answer first, then stop: the server waits for the answer to be sent.
            context.Response.OnCompleted(() => { s.Stop(); return Task.CompletedTask; });
            return JsonResponse.Write(context, new OkResponse(true, "stopping"), AgentJsonContext.Wire.OkResponse);
        });
    }
}
