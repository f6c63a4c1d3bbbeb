using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>
/// Optional for an <see cref="Modeling.ILanguageModel"/>: lets a checkpoint taken in the middle of an epoch hold the
/// recurrent state the model carries from batch to batch, so a resumed run continues exactly as an uninterrupted one
/// would. A model without it resumes mid-epoch from a fresh (zero) state, which changes the first few batches slightly.
/// </summary>
public interface IRecurrentStateSnapshots
{
    /// <summary>Copies of the carried state tensors (the caller owns them), or null when no state is carried.</summary>
    IReadOnlyList<Tensor>? CaptureState();

    /// <summary>Replaces the carried state with copies of <paramref name="state"/> (null: forget it, as
    /// <see cref="Modeling.ILanguageModel.ResetState"/>).</summary>
    void RestoreState(IReadOnlyList<Tensor>? state);
}
