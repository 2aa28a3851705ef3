using System.Buffers.Binary;

namespace RestoreTools.Contract;

/// <summary>
/// The framing of a virtio-serial port, both ways: records of a 4-byte little-endian length and
/// that many bytes, at most one port write (32 KiB) each. Two lengths are special:
/// <list type="bullet">
/// <item>Open (0xFFFFFFFF) and an 8-byte nonce. The host starts each connection with it and the
/// agent answers with the same record before anything else. A port does not say reliably when
/// its host changed (the guest may handle "closed" and "open" together), so this is what tells
/// connections apart: the agent ends the previous one at an Open, and the host drops whatever
/// comes before its own Open (the rest of an answer to an earlier, abandoned connection).</item>
/// <item>End (0), from the agent: the connection ended on its side. The guest cannot close a
/// port's stream, so this is how the host learns it.</item>
/// </list>
/// </summary>
public static class VirtioSerialFraming
{
    public const int HeaderSize = 4;
    public const int NonceSize = 8;
    public const int OpenSize = HeaderSize + NonceSize;
    public const int MaxPayload = 32 * 1024 - HeaderSize;
    public const uint End = 0;
    public const uint Open = 0xFFFF_FFFF;

    /// <summary>The virtserialport names the agent serves: PREFIX0, PREFIX1, ...</summary>
    public const string PortPrefix = Engine.RestoreVm.VmTransport.PortPrefix;

    public static void WriteOpen(Span<byte> record, ulong nonce)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, Open);
        BinaryPrimitives.WriteUInt64LittleEndian(record[HeaderSize..], nonce);
    }

    public static void WriteHeader(Span<byte> header, int payload)
    {
        if ((uint)payload > MaxPayload) throw new ArgumentOutOfRangeException(nameof(payload));
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload);
    }
}

/// <summary>
/// The agent's reader of what a host sends on a port: fed the bytes as they come, it calls back
/// per Open, per piece of a data record and at bytes that cannot be records (then it drops all
/// until Reset, which the port's reader calls when the host disconnects).
/// </summary>
public sealed class VirtioSerialFrameParser
{
    private readonly byte[] _head = new byte[VirtioSerialFraming.OpenSize];
    private int _headGot;
    private int _remaining;   // payload bytes of the current data record still to come
    private bool _broken;

    public bool Broken => _broken;

    public void Reset()
    {
        _headGot = 0;
        _remaining = 0;
        _broken = false;
    }

    /// <param name="open">an Open record with its nonce</param>
    /// <param name="data">payload bytes of a data record (a record may come in several pieces)</param>
    /// <param name="broken">the stream holds something that is not a record; called once until Reset</param>
    public void Feed(ReadOnlySpan<byte> bytes, Action<ulong> open, SpanAction data, Action<string> broken)
    {
        while (bytes.Length > 0 && !_broken)
        {
            if (_remaining > 0)
            {
                int take = Math.Min(_remaining, bytes.Length);
                data(bytes[..take]);
                _remaining -= take;
                bytes = bytes[take..];
                continue;
            }
            int want = _headGot < VirtioSerialFraming.HeaderSize ? VirtioSerialFraming.HeaderSize : VirtioSerialFraming.OpenSize;
            int n = Math.Min(want - _headGot, bytes.Length);
            bytes[..n].CopyTo(_head.AsSpan(_headGot));
            _headGot += n;
            bytes = bytes[n..];
            if (_headGot < VirtioSerialFraming.HeaderSize) continue;
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(_head);
            if (length == VirtioSerialFraming.Open)
            {
                if (_headGot < VirtioSerialFraming.OpenSize) continue;
                _headGot = 0;
                open(BinaryPrimitives.ReadUInt64LittleEndian(_head.AsSpan(VirtioSerialFraming.HeaderSize)));
                continue;
            }
            _headGot = 0;
            if (length == VirtioSerialFraming.End || length > VirtioSerialFraming.MaxPayload)
            {
                _broken = true;
                broken(length == VirtioSerialFraming.End ? "an empty record" : $"a record of {length} bytes (at most {VirtioSerialFraming.MaxPayload})");
                return;
            }
            _remaining = (int)length;
        }
    }

    public delegate void SpanAction(ReadOnlySpan<byte> bytes);
}
