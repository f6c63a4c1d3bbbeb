using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// What one recurrent layer carries from one call to the next (<see cref="LstmState"/>, <see cref="QrnnState"/>): two
/// tensors, cut from the graph between calls by <see cref="DetachedCopy"/>.
/// </summary>
public interface IRecurrentLayerState<TSelf> where TSelf : struct, IRecurrentLayerState<TSelf>
{
    /// <summary>Batch size the state belongs to.</summary>
    long BatchSize { get; }

    /// <summary>The two tensors, in the order checkpoints store them.</summary>
    (Tensor First, Tensor Second) Tensors { get; }

    /// <summary>A copy cut from the autograd graph, in its own memory, owned by no dispose scope.</summary>
    TSelf DetachedCopy();

    /// <summary>Disposes both tensors.</summary>
    void Dispose();

    /// <summary>A state over <paramref name="first"/> and <paramref name="second"/> (not copied).</summary>
    static abstract TSelf FromTensors(Tensor first, Tensor second);

    /// <summary>The batch size a stored pair says it has, or -1 if its shapes cannot tell.</summary>
    static abstract long BatchSizeOf(Tensor first, Tensor second);

    /// <summary>The shapes the two tensors must have for a layer of <paramref name="inputSize"/> → <paramref name="outputSize"/>.</summary>
    static abstract (long[] First, long[] Second) ExpectedShapes(long batch, long inputSize, long outputSize);
}

/// <summary>One layer of a <see cref="StackedRecurrentEncoder{TLayer, TState}"/>: a sequence in, a sequence and the
/// state to carry out.</summary>
public interface IRecurrentLayer<TState> where TState : struct, IRecurrentLayerState<TState>
{
    /// <summary>The layer's trainable tensors (one layer group).</summary>
    IReadOnlyList<TorchSharp.Modules.Parameter> Weights { get; }

    /// <summary>Runs the layer over <paramref name="input"/> (batch, seq, in) from <paramref name="state"/> (zeros
    /// when null); returns (batch, seq, out) and the state after the last step.</summary>
    (Tensor Output, TState State) Forward(Tensor input, TState? state = null);
}
