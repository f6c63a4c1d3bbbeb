using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>The recurrent state of one single-layer LSTM: hidden and cell, each (1, batch, hidden).</summary>
public readonly record struct LstmState(Tensor Hidden, Tensor Cell) : IRecurrentLayerState<LstmState>
{
    /// <summary>Batch size the state belongs to.</summary>
    public long BatchSize => Hidden.shape[1];

    /// <inheritdoc />
    public (Tensor First, Tensor Second) Tensors => (Hidden, Cell);

    /// <inheritdoc />
    public static LstmState FromTensors(Tensor first, Tensor second) => new(first, second);

    /// <inheritdoc />
    public static long BatchSizeOf(Tensor first, Tensor second) => first.dim() == 3 ? first.shape[1] : -1;

    /// <summary>Hidden and cell are both (1, batch, output).</summary>
    public static (long[] First, long[] Second) ExpectedShapes(long batch, long inputSize, long outputSize) =>
        ([1, batch, outputSize], [1, batch, outputSize]);

    /// <summary>
    /// A copy cut from the autograd graph, in its own memory (the state may be a view into a whole sequence's output,
    /// which must not be kept alive across batches), owned by no dispose scope: the caller disposes it.
    /// </summary>
    public LstmState DetachedCopy()
    {
        using var _ = no_grad();
        return new(Hidden.detach().clone().DetachFromDisposeScope(), Cell.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Hidden.Dispose();
        Cell.Dispose();
    }
}
