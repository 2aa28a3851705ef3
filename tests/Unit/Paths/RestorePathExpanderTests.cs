using RestoreTools.Engine;
using RestoreTools.Engine.Paths;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Paths;

/// <summary>
/// A GPT image made by sfdisk with two ext4 partitions made by mkfs.ext4 -d: names with brackets
/// and '*', dot-names, a link to a folder and a merged-usr style /lib link.
/// </summary>
public sealed class WildcardImage : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }

    public WildcardImage()
    {
        var one = Images.FileSystem("ext4", 16, "one", Images.Tree("one",
            ("etc/hostname", "one\n"), ("etc/hosts", "127.0.0.1 localhost\n"), ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
            ("etc/.hidden", "hidden\n"), ("home/alice/notes.txt", "alice\n"), ("home/bob/notes.txt", "bob\n"),
            ("home/.cache/notes.txt", "cache\n"),
            ("odd/a[1].txt", "brackets\n"), ("odd/a1.txt", "a1\n"), ("odd/star*name.txt", "star\n"), ("odd/star-plain.txt", "plain\n"),
            ("usr/lib/libx.so", "lib\n"), ("lib", "->usr/lib"), ("links/etc", "->../etc")));
        var two = Images.FileSystem("ext4", 16, "two", Images.Tree("two", ("etc/hostname", "two\n"), ("etc/other", "other\n")));
        Image = Images.Disk("wild.img", 40,
            "label: gpt\n" +
            "size=16MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n" +
            "size=16MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n",
            (1, one), (2, two));
    }

    public void Dispose() => Images.Dispose();
}

public sealed class RestorePathExpanderTests : IDisposable, IClassFixture<WildcardImage>
{
    private readonly TestEngine _t = new();
    private readonly RestorePathExpander _x;
    private readonly string _image;

    public RestorePathExpanderTests(WildcardImage image)
    {
        _image = image.Image;
        _t.Engine.AttachImage(image.Image, "w");
        _x = new RestorePathExpander(_t.Engine);
    }

    public void Dispose() => _t.Dispose();

    [Fact]
    public void ExpandsTheLastName() =>
        Assert.Equal(["/w/part/1/etc/hostname", "/w/part/1/etc/hosts"], _x.Expand("/w/part/1/etc/host*"));

    [Fact]
    public void ExpandsComponentsBucketTypesAndDisks()
    {
        Assert.Equal(["/w/part/1/etc/hostname", "/w/part/2/etc/hostname"], _x.Expand("/w/part/*/etc/hostname"));
        Assert.Equal(["/w/part/1/etc", "/w/part/2/etc"], _x.Expand("/w/part/[12]/etc"));
        Assert.Equal(["/w/part/2/etc/other"], _x.Expand("/w/*/?/etc/oth*"));
        Assert.Equal(["/w/part/1/etc/passwd"], _x.Expand("/*/part/1/etc/passwd"));
        Assert.Equal(["/w/part/1", "/w/part/2"], _x.Expand("/w/part/*"));
    }

    [Fact]
    public void ExpandsFoldersInTheMiddle() =>
        Assert.Equal(["/w/part/1/home/alice/notes.txt", "/w/part/1/home/bob/notes.txt"], _x.Expand("/w/part/1/home/*/notes.txt"));

    [Fact]
    public void BracketsAreASetUnlessEscaped()
    {
        Assert.Equal(["/w/part/1/odd/a1.txt"], _x.Expand("/w/part/1/odd/a[1].txt"));
        // Escaped: no wildcards left, so the name itself, as WildcardPattern.Unescape gives it.
        Assert.Equal(["/w/part/1/odd/a[1].txt"], _x.Expand("/w/part/1/odd/a`[1`].txt"));
        Assert.Equal("brackets\n", ReadAll("/w/part/1/odd/a[1].txt"));
    }

    [Fact]
    public void AHostileNameWithAStarIsMatchedButNeverExpandedAgain()
    {
        var found = _x.Expand("/w/part/1/odd/star*");
        Assert.Equal(["/w/part/1/odd/star*name.txt", "/w/part/1/odd/star-plain.txt"], found);
        // The match is the engine's literal path: read as it is, it is that one file.
        Assert.Equal("star\n", ReadAll(found[0]));
        // Escaped, the path names itself only.
        Assert.Equal([found[0]], _x.Expand(RestorePathExpander.Escape(found[0])));
        Assert.Single(_x.Matches("/w/part/1/odd/star`*name.txt"));
    }

    [Fact]
    public void DotNamesNeedALeadingDotOrMatchHidden()
    {
        Assert.DoesNotContain("/w/part/1/etc/.hidden", _x.Expand("/w/part/1/etc/*"));
        Assert.Equal(["/w/part/1/etc/.hidden"], _x.Expand("/w/part/1/etc/.h*"));
        Assert.Contains("/w/part/1/etc/.hidden", new RestorePathExpander(_t.Engine) { MatchHidden = true }.Expand("/w/part/1/etc/*"));
        Assert.Equal(["/w/part/1/home/alice/notes.txt", "/w/part/1/home/bob/notes.txt"], _x.Expand("/w/part/1/home/*/notes.txt"));
        Assert.Equal(3, new RestorePathExpander(_t.Engine) { MatchHidden = true }.Expand("/w/part/1/home/*/notes.txt").Count);
    }

    [Fact]
    public void NeverGoesThroughALinkAWildcardFound()
    {
        // links/etc -> ../etc and lib -> usr/lib are links: a wildcard finds them but does not enter them.
        Assert.Throws<RestoreException>(() => _x.Expand("/w/part/1/links/*/hostname"));
        Assert.Equal(["/w/part/1/usr/lib/libx.so"], _x.Expand("/w/part/1/*/lib/lib*.so"));
        var links = _x.Matches("/w/part/1/li*").ToList();
        Assert.Equal(["lib", "links"], links.Select(l => l.Name));
        Assert.Equal(RestoreTools.Engine.Browsing.ItemType.Symlink, links[0].Type);
    }

    [Fact]
    public void ALinkWrittenLiterallyIsFollowedInsideItsBucket() =>
        Assert.Equal(["/w/part/1/usr/lib/libx.so"], _x.Expand("/w/part/1/lib/lib*"));

    [Fact]
    public void NothingMatchingIsItemNotFoundInFileSystemWords()
    {
        var ex = Assert.Throws<RestoreException>(() => _x.Expand("/w/part/1/etc/nothing*"));
        Assert.Equal(RestoreErrorCode.ItemNotFound, ex.Code);
        Assert.Equal("Cannot find path '/w/part/1/etc/nothing*' because it does not exist.", ex.Message);
        Assert.Equal("/w/part/1/etc/nothing*", ex.Target);
        // Below a file there is nothing to match.
        Assert.Throws<RestoreException>(() => _x.Expand("/w/part/1/etc/hostname/*"));
    }

    [Fact]
    public void ALiteralPrefixKeepsItsOwnError()
    {
        var ex = Assert.Throws<RestoreException>(() => _x.Expand("/nodisk/part/*"));
        Assert.Equal(RestoreErrorCode.DiskNotFound, ex.Code);
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() => _x.Expand("/w/part/1/etc/[abc")).Code);
    }

    [Fact]
    public void MatchesCarryTheItemsTheListingGave()
    {
        var matches = _x.ExpandMatches("/w/part/1/etc/host*");
        Assert.Equal(["hostname", "hosts"], matches.Select(m => m.Item!.Name));
        Assert.All(matches, m => Assert.Equal(m.Path, m.Item!.Path));
        Assert.Null(_x.ExpandMatches("/w/part/1/etc/hosts").Single().Item);
    }

    [Fact]
    public void APathWithoutWildcardsIsNotLookedUp() =>
        // The caller's own engine call then says what is wrong, as it always did.
        Assert.Equal(["/w/part/9/none"], _x.Expand("/w/part/9/none"));

    [Fact]
    public void AnAgentExpandsAsThisHostDoes()
    {
        using var agent = AgentProcess.Start(aot: false, token: true, "--image", "w=" + _image);
        using var client = agent.Client();
        var remote = new RestorePathExpander(client);
        foreach (var pattern in new[] { "/w/part/*/etc/host*", "/w/part/1/odd/star*", "/w/*/1/home/*/notes.txt", "/w/part/1/odd/a`[1`].txt" })
            Assert.Equal(_x.Expand(pattern), remote.Expand(pattern));
        Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.Throws<RestoreException>(() => remote.Expand("/w/part/*/nothing*")).Code);
    }

    private string ReadAll(string path)
    {
        using var reader = new StreamReader(_t.Engine.OpenRead(path));
        return reader.ReadToEnd();
    }
}
