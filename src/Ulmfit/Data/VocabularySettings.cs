using Ulmfit.Text;

namespace Ulmfit.Data;

/// <summary>How a vocabulary is cut from token counts (fastai's <c>max_vocab</c> / <c>min_freq</c>).</summary>
/// <param name="MaxSize">At most this many entries, special tokens included, before padding to a multiple of 8.
/// 60,000 is the ULMFiT paper's vocabulary size.</param>
/// <param name="MinFrequency">Tokens seen fewer times become <c>xxunk</c>; fastai's default is 3.</param>
public sealed record VocabularySettings(int MaxSize = 60_000, int MinFrequency = 3)
{
    /// <summary>Throws <see cref="ArgumentException"/> with a message that says what to fix.</summary>
    public void Validate()
    {
        if (MaxSize < SpecialTokens.All.Count)
            throw new ArgumentException($"the vocabulary size must be at least {SpecialTokens.All.Count} (the special tokens), got {MaxSize}", nameof(MaxSize));
        if (MinFrequency < 1)
            throw new ArgumentException($"the minimum token frequency must be at least 1, got {MinFrequency}", nameof(MinFrequency));
    }
}
