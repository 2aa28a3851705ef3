using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace RestoreTools.Agent.Http;

/// <summary>What Kestrel runs for each request: a plain HttpContext through the agent's pipeline.</summary>
public sealed class AgentApplication(RequestDelegate pipeline) : IHttpApplication<HttpContext>
{
    public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

    public Task ProcessRequestAsync(HttpContext context) => pipeline(context);

    public void DisposeContext(HttpContext context, Exception? exception) { }
}
