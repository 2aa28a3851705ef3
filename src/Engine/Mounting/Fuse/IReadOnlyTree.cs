namespace RestoreTools.Engine.Mounting.Fuse;

/// <summary>
/// A filesystem read in user space, as <see cref="FuseServer{TNode}"/> serves it: folders listed once,
/// files read at offsets. Errors are exceptions (InvalidDataException for a corrupt structure,
/// IOException for a failed read); the server answers them with EIO and serves everything else.
/// </summary>
internal interface IReadOnlyTree<TNode> where TNode : class
{
    TNode Root { get; }

    /// <summary>The entries of a folder, each name once; called once per folder per mount.</summary>
    IReadOnlyList<TNode> List(TNode folder);

    TreeAttributes Attributes(TNode node);

    /// <summary>Up to buffer.Length bytes of a file at offset; 0 at its end.</summary>
    int Read(TNode file, long offset, Span<byte> buffer);

    /// <summary>For statfs: the allocation unit, how many there are and how many are free.</summary>
    (int BlockSize, long Blocks, long Free) Space { get; }
}

/// <summary>What stat shows of a node: name, kind, size, permission bits and times (UTC).</summary>
internal readonly record struct TreeAttributes(string Name, bool IsFolder, long Size, uint Permissions,
    DateTime Modified, DateTime Accessed, DateTime Changed);
