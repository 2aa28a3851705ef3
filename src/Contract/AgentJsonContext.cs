using System.Text.Json;
using System.Text.Json.Serialization;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;

namespace RestoreTools.Contract;

/// <summary>
/// The JSON shapes of the agent's API, source-generated (NativeAOT, no reflection): the engine's
/// records as they are, plus the agent's envelopes. camelCase, enums as names, nulls left out.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(RestoreDisk))]
[JsonSerializable(typeof(IReadOnlyList<RestoreDisk>))]
[JsonSerializable(typeof(RestoreBucket))]
[JsonSerializable(typeof(IReadOnlyList<RestoreBucket>))]
[JsonSerializable(typeof(ResolvedPath))]
[JsonSerializable(typeof(RestorePathEntry))]
[JsonSerializable(typeof(RestoreItem))]
[JsonSerializable(typeof(List<RestoreItem>))]
[JsonSerializable(typeof(ExportResult))]
[JsonSerializable(typeof(ExportFormat))]
[JsonSerializable(typeof(RestoreErrorCode))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(LivenessResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(OkResponse))]
public sealed partial class AgentJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context both ends use: names keep their apostrophes, accents and other characters as
    /// they are (the default encoder writes ' as \u0027, for HTML pages this API never feeds);
    /// control characters and quotes are still escaped, as JSON requires.
    /// </summary>
    public static AgentJsonContext Wire => s_wire ??= new(new JsonSerializerOptions(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    // Made at first use: the generated Default is not there yet while static fields initialize.
    private static AgentJsonContext? s_wire;
}
