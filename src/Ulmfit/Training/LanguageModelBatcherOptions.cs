namespace Ulmfit.Training;

/// <summary>How a <see cref="LanguageModelBatcher"/> turns documents into batches.</summary>
public sealed record LanguageModelBatcherOptions
{
    /// <summary>Rows per batch: the stream is cut into this many contiguous stretches that are walked in parallel
    /// (each row carries its own recurrent state). ULMFiT: 64 (fastai's default; the paper's scripts use 52–64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Base length of a back-propagation-through-time window. ULMFiT / AWD-LSTM: 70.</summary>
    public int Bptt { get; init; } = DefaultBptt;

    /// <summary>ULMFiT's (and fastai v1's) BPTT length, 70: the one home of the default for LM windows and the
    /// classifier's BPT3C chunks alike.</summary>
    public const int DefaultBptt = 70;

    /// <summary>Vary window lengths with fastai's rule (<see cref="SequenceLengthSampler"/>); off gives fixed windows
    /// of <see cref="Bptt"/> (validation).</summary>
    public bool VariableLength { get; init; } = true;

    /// <summary>Shuffle the document order anew each epoch; off keeps the given order (validation).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Reverse every document's tokens before concatenation: data for the backward language model that the
    /// paper ensembles with the forward one.</summary>
    public bool Backwards { get; init; }

    /// <summary>Use at most this many tokens per epoch: a prefix of the (shuffled) stream. Null: all of it.</summary>
    public long? MaxTokens { get; init; }

    /// <summary>Seed for the document order and window lengths; the same seed gives the same batches.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Options for measuring a model on held-out text: the given order, fixed windows.</summary>
    public LanguageModelBatcherOptions ForValidation() => this with { VariableLength = false, Shuffle = false, MaxTokens = null };

    /// <summary>Checks the settings; throws with a message saying what to change.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be at least 1");
        if (Bptt < 1) throw new ArgumentOutOfRangeException(nameof(Bptt), Bptt, "bptt must be at least 1");
        if (MaxTokens is < 2) throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "max tokens must be at least 2 (or unset)");
    }
}
