using System.Diagnostics;
using System.Reflection;
using RestoreTools.Agent.Auth;
using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Agent.Endpoints;

/// <summary>status (liveness without a token, full status with it) and stop.</summary>
public static class StatusEndpoints
{
    private static readonly long Started = Stopwatch.GetTimestamp();

    public static string Version { get; } =
        typeof(StatusEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/status", (HttpContext context, IRestoreEngine engine, IdleWatchdog watchdog, DownloadLimiter downloads, AgentOptions options, EngineOptions engineOptions) =>
        {
            if (!TokenAuth.IsAuthenticated(context))
                return Results.Json(new LivenessResponse(true), AgentJsonContext.Default.LivenessResponse);
            var status = new StatusResponse(
                Ok: true,
                Version: Version,
                UptimeSeconds: Math.Round(Stopwatch.GetElapsedTime(Started).TotalSeconds, 3),
                IdleTimeoutSeconds: watchdog.Timeout?.TotalSeconds,
                IdleSeconds: Math.Round(watchdog.IdleFor.TotalSeconds, 3),
                Disks: engine.GetDisks().Count,
                ActiveRequests: watchdog.Active,
                ActiveDownloads: downloads.Active,
                MaxDownloads: downloads.Max,
                RestoreVm: engineOptions.ScanVirtio,
                ProcessId: Environment.ProcessId);
            return Results.Json(status, AgentJsonContext.Default.StatusResponse);
        });

        app.MapPost("/api/v1/stop", (HttpContext context, IHostApplicationLifetime lifetime) =>
        {
            // Answer first, then stop: the host waits for the answer to be sent.
            context.Response.OnCompleted(() => { lifetime.StopApplication(); return Task.CompletedTask; });
            return Results.Json(new OkResponse(true, "stopping"), AgentJsonContext.Default.OkResponse);
        });
    }
}
