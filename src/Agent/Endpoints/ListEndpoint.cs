using System.Text.Json;
using RestoreTools.Agent.Http;
using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Agent.Endpoints;

/// <summary>
/// list?path= as a JSON array written while the engine reads the folder: the first entry is read
/// before answering (so a bad path is a proper error), then entries go out in 32 KiB flushes.
/// Memory stays constant for any folder size.
/// </summary>
public static class ListEndpoint
{
    private const int FlushBytes = 32 * 1024;

    public static void Map(Router router, AgentServices s) =>
        router.Get("/api/v1/list", c => Write(c, s.Engine));

    private static async Task Write(HttpContext context, IRestoreEngine engine)
    {
        var ct = context.RequestAborted;
        using var entries = engine.List(Query.Path(context), ct).GetEnumerator();
        bool any = entries.MoveNext();

        context.Response.ContentType = "application/json; charset=utf-8";
        var body = context.Response.BodyWriter;
        long count = 0, flushedAt = 0;
        await using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartArray();
            if (any)
            {
                do
                {
                    JsonSerializer.Serialize(writer, entries.Current, AgentJsonContext.Wire.RestoreItem);
                    count++;
                    // Serialize flushes the writer into the pipe each time: BytesCommitted is what waits there.
                    if (writer.BytesCommitted + writer.BytesPending - flushedAt >= FlushBytes)
                    {
                        writer.Flush();
                        flushedAt = writer.BytesCommitted;
                        await body.FlushAsync(ct);
                    }
                } while (entries.MoveNext());
            }
            writer.WriteEndArray();
            writer.Flush();
        }
        await body.FlushAsync(ct);
        context.Items[RequestLog.NoteKey] = $"{count} entries";
    }
}
