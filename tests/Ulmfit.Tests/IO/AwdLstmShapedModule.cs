using TorchSharp;
using TorchSharp.Modules;
using Ulmfit.IO;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

/// <summary>
/// A small deterministic network with exactly the AWD-LSTM's state-dict keys and shapes (<see cref="AwdLstmWeightNames"/>),
/// so package round trips can be tested without the real model. Its forward uses every weight (a simplified recurrent
/// cell, no dropout), so any weight that did not survive a round trip changes the predictions.
/// </summary>
sealed class AwdLstmShapedModule : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are state-dict keys
    readonly Encoder encoder;
    readonly Decoder decoder;
#pragma warning restore IDE1006

    public AwdLstmShapedModule(ArchitectureSpec spec, int seed) : base(nameof(AwdLstmShapedModule))
    {
        Spec = spec;
        encoder = new Encoder(spec, seed);
        decoder = new Decoder(spec.VocabSize);
        RegisterComponents();
    }

    public ArchitectureSpec Spec { get; }

    public static ArchitectureSpec TinySpec(int vocab = 16) => new()
    {
        VocabSize = vocab, EmbeddingSize = 6, HiddenSize = 10, Layers = 3, PadId = 1,
        Dropouts = DropoutSpec.LanguageModel, DropMult = 0.5,
    };

    /// <summary>tokens (batch, seq) int64 → logits (batch, seq, vocab).</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        Tensor embedding = encoder.embedding.weight;                   // (V, E)
        Tensor x = embedding.index_select(0, tokens.reshape(-1)).reshape(tokens.shape[0], tokens.shape[1], -1); // (B, T, E)
        foreach (Layer layer in encoder.rnns)
        {
            long h = layer.weight_hh_l0_raw.shape[1];
            Tensor z = x.matmul(layer.weight_ih_l0.t()) + layer.bias_ih_l0;                    // (B, T, 4H)
            Tensor r = z.narrow(-1, 0, h).tanh().matmul(layer.weight_hh_l0_raw.t()) + layer.bias_hh_l0; // (B, T, 4H)
            x = (r.narrow(-1, 0, h) + r.narrow(-1, h, h)).tanh();                            // (B, T, H)
        }
        return (x.matmul(embedding.t()) + decoder.bias).MoveToOuterDisposeScope();          // (B, T, V)
    }

    sealed class Encoder : nn.Module
    {
#pragma warning disable IDE1006
        public readonly Embedding embedding;
        public readonly ModuleList<Layer> rnns;
#pragma warning restore IDE1006

        public Encoder(ArchitectureSpec spec, int seed) : base(nameof(Encoder))
        {
            embedding = new Embedding(TestTensors.Random(seed, spec.VocabSize, spec.EmbeddingSize));
            rnns = new ModuleList<Layer>(Enumerable.Range(0, spec.Layers)
                .Select(l => new Layer(spec.LayerInputSize(l), spec.LayerOutputSize(l), seed + 10 * (l + 1))).ToArray());
            RegisterComponents();
        }
    }

    sealed class Embedding : nn.Module
    {
#pragma warning disable IDE1006
        public readonly Parameter weight;
#pragma warning restore IDE1006

        public Embedding(Tensor values) : base(nameof(Embedding))
        {
            weight = new Parameter(values);
            RegisterComponents();
        }
    }

    sealed class Layer : nn.Module
    {
#pragma warning disable IDE1006
        public readonly Parameter weight_ih_l0, weight_hh_l0_raw, bias_ih_l0, bias_hh_l0;
#pragma warning restore IDE1006

        public Layer(long input, long hidden, int seed) : base(nameof(Layer))
        {
            weight_ih_l0 = new Parameter(TestTensors.Random(seed, 4 * hidden, input));
            weight_hh_l0_raw = new Parameter(TestTensors.Random(seed + 1, 4 * hidden, hidden));
            bias_ih_l0 = new Parameter(TestTensors.Random(seed + 2, 4 * hidden));
            bias_hh_l0 = new Parameter(TestTensors.Random(seed + 3, 4 * hidden));
            RegisterComponents();
        }
    }

    sealed class Decoder : nn.Module
    {
#pragma warning disable IDE1006
        public readonly Parameter bias;
#pragma warning restore IDE1006

        public Decoder(long vocab) : base(nameof(Decoder))
        {
            bias = new Parameter(zeros(vocab));
            RegisterComponents();
        }
    }
}
