using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// A stateful stack of recurrent layers over a token embedding (<see cref="AwdLstmEncoder"/>, <see cref="QrnnEncoder"/>):
/// what the language model and the classifier read. The state each layer carries from one call to the next is cut from
/// the graph (truncated back-propagation through time) and kept until <see cref="ResetState"/>; a call with a
/// different batch size starts from zeros again. Not thread-safe.
/// </summary>
public interface IRecurrentEncoder : IDisposable
{
    /// <summary>The configuration the encoder was built from (<see cref="AwdLstmConfig.Architecture"/> says which one).</summary>
    AwdLstmConfig Config { get; }

    /// <summary>The token embedding (its weight is the matrix a tied decoder shares).</summary>
    TokenEmbedding Embedding { get; }

    /// <summary>Trainable tensors of each recurrent layer, input side first (one layer group each).</summary>
    IReadOnlyList<IReadOnlyList<Parameter>> LayerParameters { get; }

    /// <summary>Batch size of the carried state, or null after a reset.</summary>
    long? StateBatchSize { get; }

    /// <summary>The encoder as a module (registration, train/eval, state dicts).</summary>
    nn.Module Module { get; }

    /// <summary>
    /// Runs all layers over <paramref name="tokens"/> (batch, seq) int64. With <paramref name="allLayers"/> false the
    /// output lists hold only the last layer (what a language-model head needs).
    /// </summary>
    AwdLstmEncoderOutput Forward(Tensor tokens, bool allLayers = true);

    /// <summary>Forgets the carried state: the next call starts from zeros.</summary>
    void ResetState();

    /// <summary>Copies of the carried state (owned by the caller), or null when none is carried. The layout is the
    /// encoder's own; <see cref="RestoreState"/> of the same kind of encoder reads it back.</summary>
    IReadOnlyList<Tensor>? CaptureState();

    /// <summary>Replaces the carried state with copies of <paramref name="state"/> (as <see cref="CaptureState"/> returns
    /// it); null forgets it.</summary>
    void RestoreState(IReadOnlyList<Tensor>? state);

    /// <summary>A new encoder of the kind <paramref name="config"/>'s <see cref="AwdLstmConfig.Architecture"/> names.</summary>
    static IRecurrentEncoder Create(AwdLstmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Architecture switch
        {
            EncoderArchitecture.AwdLstm => new AwdLstmEncoder(config),
            EncoderArchitecture.Qrnn => new QrnnEncoder(config),
            _ => throw new ArgumentException($"unknown encoder architecture {config.Architecture}", nameof(config)),
        };
    }
}
