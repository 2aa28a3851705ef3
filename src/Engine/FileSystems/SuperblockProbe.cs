using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Base for the superblock probes: a damaged or hostile superblock must yield null, not an exception,
/// so the format-level failures (bad offsets, bad lengths, bad encodings) are caught here once.
/// Device I/O errors still propagate: they say nothing about the format.
/// </summary>
public abstract class SuperblockProbe : IFileSystemProbe
{
    public FileSystemInfo? Probe(IBlockReader device)
    {
        ArgumentNullException.ThrowIfNull(device);
        try
        {
            return ProbeCore(device);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException
                                      or InvalidCastException or System.Text.DecoderFallbackException)
        {
            return null;
        }
    }

    protected abstract FileSystemInfo? ProbeCore(IBlockReader device);
}
