namespace Ulmfit.Modeling;

/// <summary>The constructor checks every recurrent layer (LSTM, QRNN) makes on its sizes and weight dropout.</summary>
internal static class RecurrentLayerArguments
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless both sizes are positive and the weight
    /// dropout is in [0, 1).</summary>
    public static void Validate(long inputSize, long hiddenSize, double weightDropout)
    {
        if (inputSize <= 0) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "Input size must be positive.");
        if (hiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, "Hidden size must be positive.");
        if (!double.IsFinite(weightDropout) || weightDropout < 0 || weightDropout >= 1)
            throw new ArgumentOutOfRangeException(nameof(weightDropout), weightDropout, "Weight dropout must be in [0, 1).");
    }
}
