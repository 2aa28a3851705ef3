using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Runs the probes in libblkid's order and returns the first signature found.</summary>
public sealed class FileSystemProber
{
    /// <summary>
    /// Containers first (RAID, LVM, LUKS, VMFS volumes, BitLocker, Core Storage), as blkid does: an MD v1.0 or v0.90 member still carries the
    /// filesystem of the array at offset 0, and that must not be mistaken for the member itself.
    /// The filesystems follow in blkid's superblocks.c order.
    /// </summary>
    public static IReadOnlyList<IFileSystemProbe> DefaultProbes { get; } =
    [
        new MdRaidProbe(),
        new LvmProbe(),
        new LuksProbe(),
        new VmfsVolumeProbe(),
        new BitLockerProbe(),
        new CoreStorageProbe(),
        new FatProbe(),
        new SwapProbe(),
        new XfsProbe(),
        new Ext4Probe(),
        new ReiserfsProbe(),
        new JfsProbe(),
        new UdfProbe(),
        new Iso9660Probe(),
        new ZfsProbe(),
        new HfsPlusProbe(),
        new HfsProbe(),
        new UfsProbe(),
        new NtfsProbe(),
        new RefsProbe(),
        new MinixProbe(),
        new SquashfsProbe(),
        new BtrfsProbe(),
        new VmfsProbe(),
        new NilfsProbe(),
        new ExfatProbe(),
        new F2fsProbe(),
        new ApfsProbe(),
        new ErofsProbe(),
        // Not in blkid: Windows dynamic disks and Storage Spaces, named so they are not "no filesystem".
        new LdmProbe(),
        new StorageSpacesProbe(),
    ];

    public static FileSystemProber Default { get; } = new(DefaultProbes);

    public FileSystemProber(IReadOnlyList<IFileSystemProbe> probes)
    {
        ArgumentNullException.ThrowIfNull(probes);
        Probes = probes;
    }

    public IReadOnlyList<IFileSystemProbe> Probes { get; }

    /// <summary>The first probe that recognises the device, or null.</summary>
    public FileSystemInfo? Probe(IBlockReader device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var probe in Probes)
        {
            if (probe.Probe(device) is { } info) return info;
        }
        return null;
    }
}
