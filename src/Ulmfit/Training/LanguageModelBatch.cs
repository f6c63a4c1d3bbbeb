using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>
/// One step's worth of language-model data: <see cref="Input"/> and <see cref="Target"/> are (batch, seq) int64 and
/// <c>Target[r, t]</c> is the token that follows <c>Input[r, t]</c> in row r's stretch of the stream.
/// The tensors are created in the caller's dispose scope; disposing the batch frees them early.
/// </summary>
public sealed class LanguageModelBatch(Tensor input, Tensor target) : IDisposable
{
    /// <summary>Token ids, (batch, seq) int64.</summary>
    public Tensor Input { get; } = input;

    /// <summary>The next token of every input position, (batch, seq) int64.</summary>
    public Tensor Target { get; } = target;

    /// <summary>Rows (the batch size).</summary>
    public int Rows => (int)Input.shape[0];

    /// <summary>Time steps in this window.</summary>
    public int SequenceLength => (int)Input.shape[1];

    /// <summary>Tokens predicted by this batch (rows × sequence length).</summary>
    public long TokenCount => Input.shape[0] * Input.shape[1];

    public void Dispose()
    {
        Input.Dispose();
        Target.Dispose();
    }
}

/// <summary>
/// Where a <see cref="LanguageModelBatcher"/> stands: the (zero-based) epoch, the offset along each row of that
/// epoch's stream, and the state of the generator that draws window lengths. Restoring it (with the same documents
/// and options) reproduces every following batch exactly; the epoch's document order is derived from the seed and
/// the epoch number, so it needs no storage.
/// </summary>
public sealed record BatcherPosition(int Epoch, long Offset, string RandomState);
