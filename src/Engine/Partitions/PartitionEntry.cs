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
}

/// <summary>A parsed table: "gpt" or "dos" (sfdisk's label names), its disk id and its partitions.</summary>
public sealed record PartitionTable(string Label, string? DiskId, IReadOnlyList<PartitionEntry> Partitions, IReadOnlyList<string> Warnings);
