using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// What one <see cref="QrnnLayer"/> carries to its next call: the last input step (the width-2 convolution's window
/// reaches one step back), (batch, 1, input), and the last cell state c_T, (batch, hidden).
/// </summary>
public readonly record struct QrnnState(Tensor LastInput, Tensor Cell) : IRecurrentLayerState<QrnnState>
{
    /// <summary>Batch size the state belongs to.</summary>
    public long BatchSize => Cell.shape[0];

    /// <inheritdoc />
    public (Tensor First, Tensor Second) Tensors => (LastInput, Cell);

    /// <inheritdoc />
    public static QrnnState FromTensors(Tensor first, Tensor second) => new(first, second);

    /// <inheritdoc />
    public static long BatchSizeOf(Tensor first, Tensor second) => second.dim() == 2 ? second.shape[0] : -1;

    /// <summary>The last input step is (batch, 1, input), the cell (batch, output).</summary>
    public static (long[] First, long[] Second) ExpectedShapes(long batch, long inputSize, long outputSize) =>
        ([batch, 1, inputSize], [batch, outputSize]);

    /// <summary>A copy cut from the autograd graph, in its own memory (the state is usually a view into a whole
    /// sequence), owned by no dispose scope: the caller disposes it.</summary>
    public QrnnState DetachedCopy()
    {
        using var _ = no_grad();
        return new(LastInput.detach().clone().DetachFromDisposeScope(), Cell.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        LastInput.Dispose();
        Cell.Dispose();
    }
}
