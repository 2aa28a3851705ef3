using RestoreTools.Engine.Buckets.Lvm;
using System.Reflection;
using RestoreTools.Engine;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using RestoreTools.Engine.Partitions;
using FileSystemInfo = RestoreTools.Engine.FileSystems.FileSystemInfo;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>How one input went.</summary>
public enum FuzzVerdict
{
    /// <summary>A result, or the reader's documented refusal (RestoreException, InvalidDataException from the table reader).</summary>
    Clean,
    /// <summary>An exception inside a probe that only SuperblockProbe's safety net turned into "not this filesystem".</summary>
    Masked,
    /// <summary>A partition whose byte range overflows or is negative, which the engine would pass to BLKPG and the probes.</summary>
    BadResult,
    /// <summary>An exception the engine would not have caught.</summary>
    Crash,
}

public sealed record FuzzOutcome(FuzzVerdict Verdict, Exception? Error = null, string? Where = null);

/// <summary>
/// Feeds one disk through the code the engine runs on a real disk: PartitionTableReader.Read, then the
/// filesystem probes on the whole disk (the raw bucket) and on every partition's slice (as
/// PartitionBucketKind does). Each probe body is also called without SuperblockProbe's catch, so an
/// exception it would swallow is still seen.
/// </summary>
public static class FuzzTarget
{
    private const int MaxPartitionsProbed = 300;

    private static readonly (string Name, IFileSystemProbe Probe, Func<IBlockReader, FileSystemInfo?> Bare)[] Probes =
        [.. FileSystemProber.DefaultProbes.Select(p => (p.GetType().Name, p, BareProbe(p)))];

    private static Func<IBlockReader, FileSystemInfo?> BareProbe(IFileSystemProbe p)
    {
        if (p is not SuperblockProbe) return p.Probe;
        var core = typeof(SuperblockProbe).GetMethod("ProbeCore", BindingFlags.Instance | BindingFlags.NonPublic)
                   ?? throw new MissingMethodException(nameof(SuperblockProbe), "ProbeCore");
        return core.CreateDelegate<Func<IBlockReader, FileSystemInfo?>>(p);
    }

    /// <summary>The exceptions SuperblockProbe.Probe turns into null.</summary>
    private static bool SafetyNetCatches(Exception e) =>
        e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidCastException
            or System.Text.DecoderFallbackException;

    public static FuzzOutcome Run(IBlockReader disk)
    {
        PartitionTable? table;
        try
        {
            table = PartitionTableReader.Read(disk);
        }
        catch (Exception e) when (e is RestoreException or InvalidDataException)
        {
            table = null;
        }
        catch (Exception e)
        {
            return new FuzzOutcome(FuzzVerdict.Crash, e, "PartitionTableReader.Read");
        }

        FuzzOutcome worst = ProbeAll(disk, "whole disk");
        if (worst.Verdict == FuzzVerdict.Crash || table is null) return worst;

        int probed = 0;
        foreach (var p in table.Partitions)
        {
            long start, size;
            try
            {
                start = checked(p.StartSector * p.SectorSize);
                size = checked(p.SectorCount * p.SectorSize);
                if (p.StartSector < 0 || p.SectorCount <= 0) throw new OverflowException("negative extent");
            }
            catch (OverflowException e)
            {
                return new FuzzOutcome(FuzzVerdict.BadResult, e,
                    $"{table.Label} partition {p.Number}: start sector {p.StartSector}, {p.SectorCount} sectors of {p.SectorSize}");
            }
            if (p.Type is "0x05" or "0x0f" or "0x85") continue;   // containers are not probed by the engine
            if (++probed > MaxPartitionsProbed) break;
            var o = ProbeAll(new SliceBlockReader(disk, start, size), $"partition {p.Number}");
            if (o.Verdict > worst.Verdict) worst = o;
            if (worst.Verdict == FuzzVerdict.Crash) return worst;
        }
        return worst;
    }

    private static FuzzOutcome ProbeAll(IBlockReader device, string where)
    {
        var worst = new FuzzOutcome(FuzzVerdict.Clean);
        foreach (var (name, _, bare) in Probes)
        {
            try
            {
                bare(device);
            }
            catch (Exception e) when (e is RestoreException)
            {
            }
            catch (Exception e) when (SafetyNetCatches(e))
            {
                if (worst.Verdict == FuzzVerdict.Clean) worst = new FuzzOutcome(FuzzVerdict.Masked, e, $"{name} on {where}");
            }
            catch (Exception e)
            {
                return new FuzzOutcome(FuzzVerdict.Crash, e, $"{name} on {where}");
            }
        }
        // An LVM2 PV's label, metadata area and text, as the lvm bucket kind reads them: InvalidDataException is its refusal.
        try
        {
            if (LvmPhysicalVolume.Read(device)?.MetadataText is { } text)
            {
                var vg = LvmVolumeGroup.Parse(text);
                foreach (var lv in vg.LogicalVolumes) vg.ContiguousExtent(lv);
            }
        }
        catch (InvalidDataException) { }
        catch (Exception e)
        {
            return new FuzzOutcome(FuzzVerdict.Crash, e, $"LVM2 metadata on {where}");
        }
        return worst;
    }
}
