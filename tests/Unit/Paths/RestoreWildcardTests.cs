using RestoreTools.Engine;
using RestoreTools.Engine.Paths;

namespace RestoreTools.Tests.Unit.Paths;

/// <summary>The engine's wildcard language against what PowerShell's WildcardPattern does, but case-sensitive.</summary>
public sealed class RestoreWildcardTests
{
    [Theory]
    [InlineData("host*", "hostname", true)]
    [InlineData("host*", "hosts", true)]
    [InlineData("host*", "host", true)]
    [InlineData("host*", "ghost", false)]
    [InlineData("*.conf", "a.conf", true)]
    [InlineData("*.conf", "a.conf.bak", false)]
    [InlineData("*a*b*", "xaxxbx", true)]
    [InlineData("*a*b*", "xbxa", false)]
    [InlineData("h?st", "host", true)]
    [InlineData("h?st", "hst", false)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[a-c]x", "dx", false)]
    [InlineData("[abc]", "c", true)]
    [InlineData("[abc]", "ab", false)]
    [InlineData("[-a]", "-", true)]
    [InlineData("a[1].txt", "a1.txt", true)]
    [InlineData("a[1].txt", "a[1].txt", false)]
    [InlineData("a`[1`].txt", "a[1].txt", true)]
    [InlineData("star`*", "star*", true)]
    [InlineData("star`*", "starx", false)]
    [InlineData("[`]]", "]", true)]
    [InlineData("Host*", "hostname", false)] // case-sensitive, as Linux names
    [InlineData("*", "", true)]
    [InlineData("**?", "x", true)]
    [InlineData("tail`", "tail`", true)]
    public void MatchesAsWildcardPatternDoes(string pattern, string name, bool match) =>
        Assert.Equal(match, RestoreWildcard.Parse(pattern).IsMatch(name));

    [Fact]
    public void LongPatternsStayLinear()
    {
        // A backtracking matcher without a bound would take ages on this.
        string name = new string('a', 5000) + "b";
        Assert.False(RestoreWildcard.Parse("*a*a*a*a*a*a*a*a*c").IsMatch(name));
        Assert.True(RestoreWildcard.Parse("*a*a*a*a*a*a*a*a*b").IsMatch(name));
    }

    [Theory]
    [InlineData("[abc")]
    [InlineData("x[]")]
    public void RefusesAnUnclosedOrEmptySet(string pattern)
    {
        var ex = Assert.Throws<RestoreException>(() => RestoreWildcard.Parse(pattern));
        Assert.Equal(RestoreErrorCode.InvalidPath, ex.Code);
        Assert.Contains("not a valid wildcard pattern", ex.Message);
    }

    [Theory]
    [InlineData("plain", false)]
    [InlineData("a*", true)]
    [InlineData("a?", true)]
    [InlineData("a[1]", true)]
    [InlineData("a]", true)]
    [InlineData("a`*", false)]
    [InlineData("a`[1`]", false)]
    [InlineData("it`s", false)]
    public void TellsWildcardsFromEscapedOnes(string text, bool wild) =>
        Assert.Equal(wild, RestoreWildcard.ContainsWildcards(text));

    [Theory]
    [InlineData("star*name.txt")]
    [InlineData("a[1].txt")]
    [InlineData("back`tick")]
    [InlineData("q?.[x]`*")]
    [InlineData("plain")]
    public void EscapeMatchesOnlyTheNameAndUnescapesBack(string name)
    {
        string escaped = RestoreWildcard.Escape(name);
        Assert.False(RestoreWildcard.ContainsWildcards(escaped));
        Assert.Equal(name, RestoreWildcard.Unescape(escaped));
        Assert.True(RestoreWildcard.Parse(escaped).IsMatch(name));
    }

    [Fact]
    public void UnescapeKeepsABacktickBeforeOrdinaryCharacters() =>
        Assert.Equal("it`s ` and `x", RestoreWildcard.Unescape("it`s ` and `x"));

    [Fact]
    public void OnlyALeadingLiteralDotMarksAPatternForHiddenNames()
    {
        Assert.True(RestoreWildcard.Parse(".h*").StartsWithDot);
        Assert.False(RestoreWildcard.Parse("*").StartsWithDot);
        Assert.False(RestoreWildcard.Parse("?bashrc").StartsWithDot);
    }
}
