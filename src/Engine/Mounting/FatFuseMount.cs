using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems.Fat;
using RestoreTools.Engine.Mounting.Fuse;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Mounting;

/// <summary>
/// FAT12/16/32 read in user space (FileSystems/Fat) and served through FUSE, before the kernel's vfat.
/// vfat finds a name by scanning its folder from the start, so a tar of n files in one folder reads
/// n²/2 entries (10,000 files: 14× ext4 in the restore VM); here every folder is read once and looked up
/// in a hash. It also reads FAT where the kernel has no vfat (this host).
/// </summary>
internal static class FatFuseMount
{
    /// <summary>The name the mounter tries before the kernel's vfat.</summary>
    public const string Type = "fat-fuse";

    public static bool CanServe => FuseDevice.Exists;

    /// <summary>Mounts device on mountPoint; null and a reason when FUSE is missing or the volume is not a FAT this reader takes.</summary>
    public static IServedMount? TryMount(string device, string mountPoint, Action<string>? warn, out string? failure)
    {
        failure = null;
        if (!FuseDevice.Exists)
        {
            failure = $"{Type}: this system has no /dev/fuse";
            return null;
        }
        FileBlockReader? reader = null;
        try
        {
            reader = new FileBlockReader(device);
            var volume = FatVolume.Open(reader);
            return FuseMount.Start(new FatTree(volume), device, mountPoint, "restoretools-fat", reader, warn);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            reader?.Dispose();
            failure = $"{Type}: {ex.Message}";
            return null;
        }
    }

    /// <summary>A FAT volume as the FUSE server sees it: modes as vfat gives them (umask 022, read-only files without w).</summary>
    private sealed class FatTree(FatVolume volume) : IReadOnlyTree<FatEntry>
    {
        public FatEntry Root => volume.Root;

        public IReadOnlyList<FatEntry> List(FatEntry folder) => volume.ReadDirectory(folder);

        public TreeAttributes Attributes(FatEntry node) => new(
            node.Name, node.IsDirectory, node.Size,
            // vfat ignores the read-only bit on folders (Windows uses it there to mark customised folders).
            node.IsDirectory ? 0x1EDu /* 0755 */ : (node.Attributes & 0x01) != 0 ? 0x124u /* 0444 */ : 0x1A4u /* 0644 */,
            node.Modified, node.Accessed, node.Created);

        public int Read(FatEntry file, long offset, Span<byte> buffer) => volume.Read(file, offset, buffer);

        public (int BlockSize, long Blocks, long Free) Space => (volume.ClusterSize, volume.TotalClusters, volume.FreeClusters);
    }
}
