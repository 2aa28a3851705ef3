using System.Runtime.InteropServices;

namespace RestoreTools.Engine.Native;

/// <summary>
/// Random bytes from the kernel (getrandom(2)), for tokens and markers. Not RandomNumberGenerator:
/// under NativeAOT that loads OpenSSL's libcrypto, which a static agent cannot take in (a second
/// C library in the process corrupts memory; the restore VM has no libssl at all).
/// </summary>
public static unsafe partial class SecureRandom
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial nint getrandom(byte* buffer, nuint length, uint flags);

    public static byte[] Bytes(int count)
    {
        var buffer = new byte[count];
        fixed (byte* p = buffer)
        {
            int done = 0;
            while (done < count)
            {
                nint n = getrandom(p + done, (nuint)(count - done), 0);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == Sys.EINTR) continue;
                    throw new NativeException("getrandom", e);
                }
                done += (int)n;
            }
        }
        return buffer;
    }

    /// <summary>count random bytes as lowercase hex.</summary>
    public static string Hex(int count) => Convert.ToHexStringLower(Bytes(count));
}
