using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// The language model's output layer: logits = x · Eᵀ + b, where E is the token-embedding matrix itself (weight tying,
/// Press &amp; Wolf 2017) and b a per-word bias. Parameter: <c>bias</c> (vocab). The matrix is read from the embedding
/// on every call and is not a parameter of this module, so it appears once in state dicts and layer groups.
/// </summary>
/// <remarks>
/// Not TorchSharp's <c>nn.Linear</c> with a shared weight: assigning <c>Linear.weight</c> disposes the previous
/// tensor, and <c>module.to(...)</c> would move (copy) the shared matrix twice, once per owner, and untie it.
/// </remarks>
public sealed class TiedDecoder : nn.Module<Tensor, Tensor>, IComputePrecisionLayer
{
    // A delegate rather than a TokenEmbedding field: a module-typed field would be registered as a second owner.
    readonly Func<Parameter> _weight;
#pragma warning disable IDE1006 // PyTorch naming, on purpose: the field name is the state-dict key
    Parameter bias;
#pragma warning restore IDE1006

    /// <summary>Ties the decoder to <paramref name="embedding"/>; the bias starts at zero (fastai).</summary>
    public TiedDecoder(TokenEmbedding embedding, string name = nameof(TiedDecoder)) : base(name)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        _weight = () => embedding.Weight;
        bias = new Parameter(zeros(embedding.VocabSize));
        bias.DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>The tied (vocab, emb) matrix: the embedding's own <see cref="Parameter"/>.</summary>
    public Parameter Weight => _weight();

    /// <summary>The per-word bias, (vocab).</summary>
    public Parameter Bias => bias;

    /// <inheritdoc />
    /// <remarks>With bf16 the product x · Eᵀ + b runs in bfloat16 (the largest matrix product of the language model)
    /// and the logits are cast back to float32, so log-softmax and the loss see float32. Measured against a bf16
    /// cross-entropy straight on bf16 logits this costs about a fifth more time in the decoder and loss, but the loss is
    /// then computed and reduced in float32.</remarks>
    public ComputePrecision Precision { get; set; }

    /// <summary>Scores every word: <paramref name="input"/> (..., emb) → (..., vocab) float32 logits.</summary>
    public override Tensor forward(Tensor input)
    {
        if (Precision == ComputePrecision.Fp32) return nn.functional.linear(input, _weight(), bias);
        // The casts are differentiable: the tied matrix and the bias receive float32 gradients.
        using var x = input.CastTo(Precision);                // (..., emb) bf16
        using var weight = _weight().CastTo(Precision);       // (vocab, emb) bf16
        using var b = bias.CastTo(Precision);                 // (vocab) bf16
        using var logits = nn.functional.linear(x, weight, b); // (..., vocab) bf16
        return logits.to(bias.dtype);                        // (..., vocab) float32
    }
}
