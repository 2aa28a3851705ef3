namespace RestoreTools.Contract;

/// <summary>
/// What the agent sends over a virtio-serial port: frames of a 4-byte little-endian length and
/// that many bytes, at most one port write (32 KiB) each. A length of 0 ends the connection: the
/// guest cannot close a port's stream, so this is how the host learns that the agent has closed
/// its side. The host's bytes to the agent are plain HTTP; its disconnect ends the connection.
/// </summary>
public static class VirtioSerialFraming
{
    public const int HeaderSize = 4;
    public const int MaxPayload = 32 * 1024 - HeaderSize;
    public const uint End = 0;

    /// <summary>The virtserialport names the agent serves: PREFIX0, PREFIX1, ...</summary>
    public const string PortPrefix = Engine.RestoreVm.VmTransport.PortPrefix;
}
