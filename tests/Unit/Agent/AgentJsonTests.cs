using System.Text.Json;
using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>The agent's JSON as both ends write it.</summary>
public sealed class AgentJsonTests
{
    [Fact]
    public void NamesKeepTheirApostrophesAndAccentsAndControlCharactersAreEscaped()
    {
        var entry = new RestorePathEntry("it's café <1>\n\"q\"", "/d/part/1", ResolvedKind.Bucket, 1, null);
        string json = JsonSerializer.Serialize(entry, AgentJsonContext.Wire.RestorePathEntry);
        Assert.Contains("\"name\":\"it's café <1>\\n\\\"q\\\"\"", json);
        Assert.Equal(entry, JsonSerializer.Deserialize(json, AgentJsonContext.Wire.RestorePathEntry));
    }
}
