namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>A file or folder of a FAT volume, as its directory entry describes it. Immutable but for a cache.</summary>
internal sealed class FatEntry
{
    internal FatEntry(string name, byte attributes, uint firstCluster, long size,
                      DateTime modified, DateTime accessed, DateTime created, FatEntry? parent, long entryOffset)
    {
        EntryOffset = entryOffset;
        Name = name;
        Attributes = attributes;
        FirstCluster = firstCluster;
        IsDirectory = (attributes & FatDirectoryParser.AttrDirectory) != 0;
        Size = IsDirectory ? 0 : size;
        Modified = modified;
        Accessed = accessed;
        Created = created;
        Parent = parent;
    }

    public string Name { get; }
    public bool IsDirectory { get; }
    public long Size { get; }
    public uint FirstCluster { get; }
    public byte Attributes { get; }
    public DateTime Modified { get; }
    public DateTime Accessed { get; }
    public DateTime Created { get; }
    public FatEntry? Parent { get; }

    /// <summary>Byte offset of the 32-byte (short) entry on the volume, 0 for the root: unique and stable, fit for an inode number.</summary>
    public long EntryOffset { get; }

    /// <summary>"/a/b/c" for messages; "/" for the root.</summary>
    public string FullPath
    {
        get
        {
            if (Parent is null) return "/";
            var parts = new List<string>();
            for (var e = this; e.Parent is not null; e = e.Parent) parts.Add(e.Name);
            parts.Reverse();
            return "/" + string.Join('/', parts);
        }
    }

    /// <summary>The file's cluster runs, computed once on first read; written once, read without a lock.</summary>
    internal ClusterRuns? Runs;

    /// <summary>Why the cluster chain cannot be read, once a walk found it broken.</summary>
    internal string? BrokenChain;

    public override string ToString() => FullPath;
}
