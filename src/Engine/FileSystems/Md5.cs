using System.Buffers.Binary;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// MD5 (RFC 1321), for the one place a format needs it: libblkid derives the HFS/HFS+ UUID from an MD5.
/// Written here because the platform's MD5 needs OpenSSL, which the static agent in the restore VM has not.
/// Not for security.
/// </summary>
internal static class Md5
{
    private static readonly int[] Shifts =
    [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];

    // K[i] = floor(2^32 * |sin(i + 1)|)
    private static readonly uint[] K = Enumerable.Range(0, 64)
        .Select(i => (uint)(long)Math.Floor(Math.Abs(Math.Sin(i + 1)) * 4294967296.0)).ToArray();

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        // Padding: 0x80, zeros to 56 mod 64, then the bit length little-endian.
        int padded = ((data.Length + 8) / 64 + 1) * 64;
        var msg = new byte[padded];
        data.CopyTo(msg);
        msg[data.Length] = 0x80;
        BinaryPrimitives.WriteUInt64LittleEndian(msg.AsSpan(padded - 8), (ulong)data.Length * 8);

        uint a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
        var m = new uint[16];
        for (int block = 0; block < padded; block += 64)
        {
            for (int i = 0; i < 16; i++) m[i] = BinaryPrimitives.ReadUInt32LittleEndian(msg.AsSpan(block + i * 4));
            uint a = a0, b = b0, c = c0, d = d0;
            for (int i = 0; i < 64; i++)
            {
                uint f;
                int g;
                if (i < 16) { f = (b & c) | (~b & d); g = i; }
                else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
                else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
                else { f = c ^ (b | ~d); g = 7 * i % 16; }
                f = f + a + K[i] + m[g];
                a = d;
                d = c;
                c = b;
                b += uint.RotateLeft(f, Shifts[i]);
            }
            a0 += a; b0 += b; c0 += c; d0 += d;
        }
        var digest = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(digest, a0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(4), b0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(8), c0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(12), d0);
        return digest;
    }
}
