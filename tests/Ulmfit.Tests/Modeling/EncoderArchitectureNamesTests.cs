using Ulmfit.Modeling;

namespace Ulmfit.Tests.Modeling;

public class EncoderArchitectureNamesTests
{
    [Fact]
    public void Every_name_parses_back_to_its_architecture()
    {
        foreach (var architecture in Enum.GetValues<EncoderArchitecture>())
            Assert.Equal(architecture, EncoderArchitectureNames.Parse(architecture.Name()));
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("QRNN")]
    [InlineData("")]
    [InlineData(null)]
    public void An_unknown_name_is_an_argument_error_that_lists_the_known_ones(string? name)
    {
        var error = Assert.Throws<ArgumentException>(() => EncoderArchitectureNames.Parse(name));
        Assert.StartsWith($"--arch must be awd-lstm or qrnn (got '{name}')", error.Message);
    }
}
