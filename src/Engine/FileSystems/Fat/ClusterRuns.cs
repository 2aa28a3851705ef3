namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>
/// A cluster chain as runs of contiguous clusters: run i holds chain positions FirstIndex[i].. of clusters
/// Start[i].... Broken, when set, says why the chain stops after ClusterCount clusters, short of the file's size.
/// </summary>
internal sealed class ClusterRuns(uint[] start, uint[] firstIndex, long clusterCount, string? broken = null)
{
    public string? Broken { get; } = broken;
    public uint[] Start { get; } = start;
    public uint[] FirstIndex { get; } = firstIndex;
    public long ClusterCount { get; } = clusterCount;
    public int Count => Start.Length;

    public long RunLength(int run) => (run + 1 < Count ? FirstIndex[run + 1] : ClusterCount) - FirstIndex[run];

    /// <summary>The run holding chain position index (0 ≤ index &lt; ClusterCount).</summary>
    public int RunOf(long index)
    {
        int lo = 0, hi = Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (FirstIndex[mid] <= index) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>True when two runs share a cluster: the chain came back to a cluster it had passed, a loop.</summary>
    public bool Overlaps()
    {
        if (Count < 2) return false;
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(Start.ToArray(), order);
        for (int k = 1; k < order.Length; k++)
        {
            int prev = order[k - 1], cur = order[k];
            if ((long)Start[prev] + RunLength(prev) > Start[cur]) return true;
        }
        return false;
    }
}
