namespace RestoreTools.Engine.Partitions;

/// <summary>One partition, numbered as Linux numbers it (logical MBR partitions from 5).</summary>
public sealed record PartitionEntry(
    int Number,
    long StartSector,
    long SectorCount,
    int SectorSize,
    string Type,              // GPT type GUID (lower case) or MBR type byte as "0x83"
    string? TypeName,         // "Linux filesystem", "EFI System", ...
    string? Name = null,      // GPT partition name
    string? Uuid = null)      // GPT unique partition GUID (lower case); MBR "disk-id-NN" as blkid does
{
    public long StartBytes => StartSector * SectorSize;
    public long SizeBytes => SectorCount * SectorSize;

    /// <summary>GPT attribute bits (entry offset 48); for MBR the boot indicator byte (0x80 = active).</summary>
    public ulong Attributes { get; init; }
}

/// <summary>A parsed table: "gpt" or "dos" (sfdisk's label names), its disk id and its partitions.</summary>
public sealed record PartitionTable(string Label, string? DiskId, IReadOnlyList<PartitionEntry> Partitions, IReadOnlyList<string> Warnings)
{
    /// <summary>Sector size the table was found with (a 4K-disk image read through a 512 reader says 4096).</summary>
    public int SectorSize { get; init; } = 512;
}
