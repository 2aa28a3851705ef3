using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Native;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// Downloads that the agent sends by sendfile into its Unix socket (DirectChunkedBody): raw extract
/// and content, whole and in ranges, of a file larger than one sendfile call, byte for byte (sha256)
/// the file on the image; several on one keep-alive connection, so the chunk framing around them is right.
/// </summary>
[Collection("Agent")]
public sealed class AgentSendFileTests(AgentFixture f) : IDisposable
{
    private readonly HttpClient _http = f.Agent.Http();

    public void Dispose() => _http.Dispose();

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [Fact]
    public async Task RawExtractIsTheFileByteForByte()
    {
        byte[] expected = await File.ReadAllBytesAsync(f.Images.BigFile);
        Assert.True(expected.Length > 2 * SocketSend.SendFileChunk, "the file must take several sendfile calls");
        for (int i = 0; i < 2; i++)   // twice on one connection: the answer ends where its framing says
        {
            using var response = await _http.GetAsync("extract?path=/files/raw/data/big.bin&format=raw", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.TransferEncodingChunked);
            Assert.Equal(Sha(expected), Sha(await response.Content.ReadAsByteArrayAsync()));
        }
        // The request log counts the bytes sent past Kestrel (its line comes after the body: wait for it).
        string line = "extract?path=/files/raw/data/big.bin&format=raw 200 " + expected.Length + " B";
        for (int i = 0; i < 200 && !f.Agent.Stderr.Contains(line); i++) await Task.Delay(50);
        Assert.Contains(line, f.Agent.Stderr);
    }

    [Fact]
    public async Task ContentAndItsRangesAreTheFileByteForByte()
    {
        byte[] expected = await File.ReadAllBytesAsync(f.Images.BigFile);
        Assert.Equal(Sha(expected), Sha(await _http.GetByteArrayAsync("content?path=/files/raw/data/big.bin")));
        long chunk = SocketSend.SendFileChunk;
        foreach (var (offset, length) in new (long, long)[]
                 { (0, 1), (1, chunk), (chunk - 1000, 5000), (3, 2 * chunk + 17), (expected.Length - chunk - 1, chunk + 1), (12345, expected.Length - 12345) })
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "content?path=/files/raw/data/big.bin");
            req.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
            using var response = await _http.SendAsync(req);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes {offset}-{offset + length - 1}/{expected.Length}", response.Content.Headers.ContentRange!.ToString());
            Assert.Equal(Sha(expected.AsSpan((int)offset, (int)length).ToArray()), Sha(await response.Content.ReadAsByteArrayAsync()));
        }
    }

    [Fact]
    public void TheClientGetsTheSameBytes()
    {
        using var client = f.Agent.Client();
        string dir = Directory.CreateTempSubdirectory("rt-sendfile-").FullName;
        try
        {
            string file = Path.Combine(dir, "big.bin");
            ExportResult result;
            using (var s = File.Create(file)) result = client.Export("/files/raw/data/big.bin", s, new ExportOptions(ExportFormat.Raw));
            Assert.Equal(new FileInfo(f.Images.BigFile).Length, result.Bytes);
            Assert.Equal(Shell.Sha256(f.Images.BigFile), Shell.Sha256(file));

            byte[] expected = File.ReadAllBytes(f.Images.BigFile);
            long offset = SocketSend.SendFileChunk - 7, length = SocketSend.SendFileChunk + 100;
            using var range = client.OpenRead("/files/raw/data/big.bin", offset, length);
            var got = new MemoryStream();
            range.CopyTo(got);
            Assert.Equal(Sha(expected.AsSpan((int)offset, (int)length).ToArray()), Sha(got.ToArray()));
        }
        finally { Directory.Delete(dir, true); }
    }
}
