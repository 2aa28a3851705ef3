namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>
/// Memory bounds of a FatVolume's caches: FAT pages (FatMaxPages of FatPageSize bytes, a multiple of 4), and
/// the cluster run lists kept on entries (lists of at most SmallRuns runs always; longer ones within
/// BigRunsBytes in all).
/// </summary>
internal sealed record FatCacheLimits(int FatPageSize, int FatMaxPages, int SmallRuns, long BigRunsBytes)
{
    public static FatCacheLimits Default { get; } = new(64 * 1024, 64, 1024, 64L << 20);
}
