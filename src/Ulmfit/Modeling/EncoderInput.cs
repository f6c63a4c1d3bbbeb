using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>The checks every encoder makes on its token input before embedding it.</summary>
internal static class EncoderInput
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="tokens"/> is a non-empty (batch, seq)
    /// int64 tensor of ids in [0, <paramref name="vocabSize"/>).</summary>
    public static void Validate(Tensor tokens, int vocabSize)
    {
        if (tokens.dim() != 2)
            throw new ArgumentException($"Tokens must be (batch, seq), got shape [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        if (tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"Tokens must be int64, got {tokens.dtype}.", nameof(tokens));
        if (tokens.numel() == 0)
            throw new ArgumentException("Tokens must not be empty.", nameof(tokens));
        using var min = tokens.min();
        using var max = tokens.max();
        long lo = min.item<long>(), hi = max.item<long>();
        if (lo < 0 || hi >= vocabSize)
            throw new ArgumentException($"Token ids must be in [0, {vocabSize}), got ids from {lo} to {hi}.", nameof(tokens));
    }
}
