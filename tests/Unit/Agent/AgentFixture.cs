using System.Net;
using System.Text.Json;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>The images, plus one JIT agent with both attached and a token, shared by the agent tests.</summary>
public sealed class AgentFixture : IDisposable
{
    public AgentImages Images { get; } = new();
    public AgentProcess Agent { get; }

    public AgentFixture()
    {
        try { Agent = AgentProcess.Start(aot: false, token: true, Images.ImageArgs); }
        catch { Images.Dispose(); throw; }
    }

    public void Dispose()
    {
        Agent.Dispose();
        Images.Dispose();
    }
}

[CollectionDefinition("Agent")]
public sealed class AgentCollection : ICollectionFixture<AgentFixture>;

/// <summary>Small helpers for answers.</summary>
public static class Answers
{
    public static async Task<(HttpStatusCode Status, JsonElement Json)> GetJson(this HttpClient http, string url, HttpMethod? method = null)
    {
        using var response = await http.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Get, url));
        string body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone());
    }

    public static string Code(this JsonElement e) => e.GetProperty("code").GetString()!;
}
