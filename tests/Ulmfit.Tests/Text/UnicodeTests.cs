namespace Ulmfit.Tests.Text;

/// <summary>Non-Latin scripts are kept intact and every emoji is one token.</summary>
public class UnicodeTests
{
    [Theory]
    [InlineData("日本語です。", "xxbos 日本語です 。")]
    [InlineData("中文，测试！", "xxbos 中文 ， 测试 ！")]
    [InlineData("Привет, мир!", "xxbos xxmaj привет , мир !")]
    [InlineData("مرحبا بالعالم.", "xxbos مرحبا بالعالم .")]
    [InlineData("नमस्ते दुनिया।", "xxbos नमस्ते दुनिया ।")]
    [InlineData("cafe\u0301 naïve", "xxbos cafe\u0301 naïve")]
    public void Scripts_and_combining_marks_are_kept(string input, string expected) => Golden.Check(input, expected);

    [Theory]
    [InlineData("😂 👍🏻 🇺🇸 ❤️ 👨‍👩‍👧", "xxbos 😂 👍🏻 🇺🇸 ❤️ 👨‍👩‍👧")]
    [InlineData("love😂it", "xxbos love 😂 it")]
    [InlineData("↔️ #️⃣", "xxbos ↔️ #️⃣")]
    public void Each_emoji_is_one_token(string input, string expected) => Golden.Check(input, expected);
}
