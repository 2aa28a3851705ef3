namespace RestoreTools.Engine.Export;

/// <summary>
/// An export output that can take a whole file from the stream the engine opened it with, so that
/// a raw export moves it without copying it through this process (the agent's answers on a Unix
/// socket use sendfile). Anything else writes through the Stream as usual.
/// </summary>
public interface IFileOutput
{
    /// <summary>Writes length bytes of file from offset; false when it cannot take this stream (the caller then copies).</summary>
    bool TryWriteFile(Stream file, long offset, long length);
}
