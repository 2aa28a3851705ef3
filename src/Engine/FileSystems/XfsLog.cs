using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Whether an XFS internal log holds changes that a mount would replay: it is clean when the last
/// record before the log's head is an unmount record (one op, XLOG_UNMOUNT_TRANS), as the kernel's
/// xlog_check_unmount_rec decides. The head is where the cycle number stamped in each 512-byte
/// block drops (blocks not yet rewritten this lap still carry the previous cycle). Every read is
/// bounded, and any doubt (an external log, a log the reader cannot follow) answers "not known".
/// </summary>
internal static class XfsLog
{
    private const uint RecordMagic = 0xFEEDBABE;
    private const byte UnmountTrans = 0x20;    // XLOG_UNMOUNT_TRANS in xlog_op_header.oh_flags
    private const int Bb = 512;
    private const int HeaderCycleSize = 32 * 1024;
    private const int SearchBack = 4096;       // basic blocks (2 MiB): past the largest log buffer and its headers

    /// <returns>true dirty, false clean, null not known.</returns>
    public static bool? IsDirty(IBlockReader device, byte[] sb)
    {
        uint blockSize = Be32(sb, 4);
        ulong logStart = Be64(sb, 48);                      // sb_logstart: 0 means an external log device
        uint logBlocks = Be32(sb, 96);                      // sb_logblocks
        uint agBlocks = Be32(sb, 84);
        int agBlkLog = sb[124];                             // sb_agblklog
        if (logStart == 0 || logBlocks == 0 || agBlkLog is 0 or > 31) return null;
        ulong agNo = logStart >> agBlkLog, agBno = logStart & ((1UL << agBlkLog) - 1);
        ulong startByte = (agNo * agBlocks + agBno) * blockSize;
        ulong lengthBytes = (ulong)logBlocks * blockSize;
        if (startByte + lengthBytes > (ulong)device.Length || lengthBytes < Bb * 2) return null;
        long start = (long)startByte, blocks = (long)(lengthBytes / Bb);

        uint? Cycle(long bb)
        {
            var b = device.TryRead(start + bb * Bb, 8);
            if (b is null) return null;
            return Be32(b, 0) == RecordMagic ? Be32(b, 4) : Be32(b, 0);   // a header's h_cycle, else the stamped cycle
        }

        uint? first = Cycle(0), last = Cycle(blocks - 1);
        if (first is null || last is null) return null;
        long head;
        if (first == last) head = 0;  // one lap written through: the next write goes to block 0
        else
        {
            // [0, head) carry the current cycle, [head, end) the previous one.
            long lo = 0, hi = blocks - 1;
            while (hi - lo > 1)
            {
                long mid = lo + (hi - lo) / 2;
                var c = Cycle(mid);
                if (c is null) return null;
                if (c == first) lo = mid; else hi = mid;
            }
            head = hi;
        }

        // The newest record header before the head (wrapping at the log's start).
        for (long i = 1; i <= Math.Min(SearchBack, blocks); i++)
        {
            long bb = ((head - i) % blocks + blocks) % blocks;
            var h = device.TryRead(start + bb * Bb, Bb);
            if (h is null) return null;
            if (Be32(h, 0) != RecordMagic) continue;
            uint version = Be32(h, 8), numOps = Be32(h, 40), hSize = Be32(h, 320);   // h_version, h_num_logops, h_size
            long hblks = (version & 2) != 0 && hSize > HeaderCycleSize ? (hSize + HeaderCycleSize - 1) / HeaderCycleSize : 1;
            var op = device.TryRead(start + ((bb + hblks) % blocks) * Bb, 16);
            if (op is null) return null;
            // xlog_op_header: oh_tid (stamped), oh_len, oh_clientid, oh_flags.
            return !(numOps == 1 && (op[9] & UnmountTrans) != 0);
        }
        return null;
    }
}
