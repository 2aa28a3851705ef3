using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RestoreTools.Contract;

/// <summary>
/// An AF_VSOCK address (struct sockaddr_vm: family, reserved, port, cid, flags, zero; 16 bytes).
/// .NET's Socket cannot create AF_VSOCK sockets itself, so VsockSocket makes them through libc;
/// this type only carries and formats the address.
/// </summary>
public sealed class VsockEndPoint(uint cid, uint port) : EndPoint
{
    public const int AddressFamilyValue = 40;     // AF_VSOCK
    public const uint AnyCid = 0xFFFFFFFF;        // VMADDR_CID_ANY
    public const uint HostCid = 2;                // VMADDR_CID_HOST
    public const uint DefaultPort = 807;          // the port Proxmox's restore daemon uses

    public uint Cid { get; } = cid;
    public uint Port { get; } = port;

    public override AddressFamily AddressFamily => (AddressFamily)AddressFamilyValue;

    /// <summary>The raw sockaddr_vm bytes.</summary>
    public byte[] ToSockaddr()
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(b, AddressFamilyValue);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), Port);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), Cid);
        return b;
    }

    public static VsockEndPoint FromSockaddr(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(b[8..]), BinaryPrimitives.ReadUInt32LittleEndian(b[4..]));

    public override string ToString() => Cid == AnyCid ? $"vsock:*:{Port}" : $"vsock:{Cid}:{Port}";

    public override bool Equals(object? obj) => obj is VsockEndPoint v && v.Cid == Cid && v.Port == Port;
    public override int GetHashCode() => HashCode.Combine(Cid, Port);
}
