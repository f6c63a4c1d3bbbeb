using TorchSharp;
using Ulmfit.Classification;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>The fused native int8 LSTM (inference only): its numbers against the plain fp32 reference, the state it
/// carries, where it refuses to run, and a classifier computing through it.</summary>
public class Int8LstmTests
{
    public Int8LstmTests() => TorchRuntime.Initialise(2);

    static void SkipUnlessAvailable() => Skip.IfNot(Int8LstmLibrary.IsAvailable, Int8LstmLibrary.WhyUnavailable);

    // Sizes off the kernel's blocking on purpose: 10 inputs (padded to 12), 20 units (padded to 32), 7 rows (one
    // full 6-row block and a 1-row tail).
    static WeightDropLstm Layer(long seed, long input = 10, long hidden = 20)
    {
        manual_seed(seed);
        var layer = new WeightDropLstm(input, hidden, weightDropout: 0.3);
        layer.eval();
        return layer;
    }

    static (Tensor X, LstmState State) Inputs(long batch, long steps, long input, long hidden, long seed)
    {
        manual_seed(seed);
        var x = randn(batch, steps, input);
        var state = new LstmState((rand(1, batch, hidden) * 1.6 - 0.8), randn(1, batch, hidden));
        return (x, state);
    }

    static double RelativeError(Tensor actual, Tensor expected)
    {
        using var d = (actual - expected).norm() / expected.norm();
        return d.item<float>();
    }

    [SkippableFact]
    public void The_int8_layer_matches_the_plain_fp32_lstm_within_quantisation_error_on_any_thread_count()
    {
        SkipUnlessAvailable();
        using var layer = Layer(1);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (x, state) = Inputs(7, 9, 10, 20, seed: 2);
        var (refOut, refH, refC) = LstmReference.Run(x, layer.InputWeight, layer.RawHiddenWeight, layer.InputBias,
            layer.HiddenBias, state.Hidden[0], state.Cell[0]);

        layer.Precision = ComputePrecision.Int8;
        var outputs = new List<Tensor>();
        foreach (int threads in new[] { 1, 2 })
        {
            torch.set_num_threads(threads);
            var (output, final) = layer.Forward(x, state);
            Assert.Equal(ScalarType.Float32, output.dtype);
            Assert.Equal(new long[] { 7, 9, 20 }, output.shape);
            Assert.Equal(new long[] { 1, 7, 20 }, final.Hidden.shape);
            // Quantisation error: int8 weights, inputs and h, one scale per row each. Measured 0.56 % here.
            Assert.InRange(RelativeError(output, refOut), 0, 0.03);
            Assert.InRange(LstmReference.MaxAbsDifference(final.Hidden[0], refH), 0, 0.05);
            Assert.InRange(LstmReference.MaxAbsDifference(final.Cell[0], refC), 0, 0.08);
            // h_n is the last output step.
            Assert.Equal(0, LstmReference.MaxAbsDifference(final.Hidden[0], output.select(1, 8)));
            outputs.Add(output);
        }
        TorchRuntime.Initialise(2);
        // Each unit is computed by one thread in the same order whatever the split: results do not depend on it.
        Assert.Equal(0, LstmReference.MaxAbsDifference(outputs[0], outputs[1]));
    }

    [SkippableFact]
    public void A_state_carried_across_two_calls_gives_exactly_the_one_call_result()
    {
        SkipUnlessAvailable();
        using var layer = Layer(3);
        layer.Precision = ComputePrecision.Int8;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (x, state) = Inputs(5, 12, 10, 20, seed: 4);
        var (whole, wholeState) = layer.Forward(x, state);
        var (first, middle) = layer.Forward(x.narrow(1, 0, 5), state);
        var (second, last) = layer.Forward(x.narrow(1, 5, 7), middle);
        // BPT3C feeds documents in chunks: the carried float32 state is re-quantised exactly as inside one call.
        Assert.Equal(0, LstmReference.MaxAbsDifference(whole, cat([first, second], 1)));
        Assert.Equal(0, LstmReference.MaxAbsDifference(wholeState.Cell, last.Cell));
    }

    [SkippableFact]
    public void No_state_means_zeros_and_a_bf16_state_is_accepted()
    {
        SkipUnlessAvailable();
        using var layer = Layer(5);
        layer.Precision = ComputePrecision.Int8;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(3, 4, 10);
        var zeros = new LstmState(torch.zeros(1, 3, 20), torch.zeros(1, 3, 20));
        Assert.Equal(0, LstmReference.MaxAbsDifference(layer.Forward(x).Output, layer.Forward(x, zeros).Output));
        var bf16 = new LstmState(zeros.Hidden.to(ScalarType.BFloat16), zeros.Cell.to(ScalarType.BFloat16));
        Assert.Equal(0, LstmReference.MaxAbsDifference(layer.Forward(x).Output, layer.Forward(x, bf16).Output));
    }

    [SkippableFact]
    public void Int8_refuses_training_and_graph_recording()
    {
        SkipUnlessAvailable();
        using var layer = Layer(6);
        layer.Precision = ComputePrecision.Int8;
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 10);
        // eval, but gradients on: the weights require grad, and int8 has no backward.
        var e = Assert.Throws<InvalidOperationException>(() => layer.Forward(x));
        Assert.Contains("inference only", e.Message);
        layer.train();
        using var _ = no_grad();
        Assert.Throws<InvalidOperationException>(() => layer.Forward(x));
    }

    [SkippableFact]
    public void Setting_the_precision_again_makes_changed_weights_visible()
    {
        SkipUnlessAvailable();
        using var layer = Layer(7);
        using var other = Layer(8);
        layer.Precision = ComputePrecision.Int8;
        other.Precision = ComputePrecision.Int8;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(2, 3, 10);
        var before = layer.Forward(x).Output;
        var expected = other.Forward(x).Output;
        layer.InputWeight.copy_(other.InputWeight);
        layer.RawHiddenWeight.copy_(other.RawHiddenWeight);
        layer.InputBias.copy_(other.InputBias);
        layer.HiddenBias.copy_(other.HiddenBias);
        Assert.Equal(0, LstmReference.MaxAbsDifference(before, layer.Forward(x).Output)); // still the packed copy
        layer.Precision = ComputePrecision.Int8;
        Assert.Equal(0, LstmReference.MaxAbsDifference(expected, layer.Forward(x).Output));
    }

    static readonly string[] Classes = ["a", "b", "c"];

    [SkippableFact]
    public void A_classifier_computing_in_int8_gives_the_fp32_probabilities_within_a_small_tolerance()
    {
        SkipUnlessAvailable();
        manual_seed(9);
        var encoder = new AwdLstmConfig(VocabSize: 60) { EmbeddingSize = 32, HiddenSize = 48, Layers = 3, Dropouts = AwdLstmDropouts.Classifier };
        using var classifier = new TextClassifier(new TextClassifierConfig(encoder, Classes) { Bptt = 6, MaxLength = 20, HeadHiddenSize = 10 });
        classifier.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = randint(2, 60, [6, 17], dtype: ScalarType.Int64);
        long[] lengths = [17, 15, 9, 6, 3, 1];                        // several BPT3C chunks, and padding
        var reference = classifier.Probabilities(classifier.Forward(tokens, lengths));
        var int8 = classifier.SetComputePrecision(ComputePrecision.Int8).Probabilities(classifier.Forward(tokens, lengths));
        Assert.Equal(ComputePrecision.Int8, classifier.GetComputePrecision());
        Assert.InRange(LstmReference.MaxAbsDifference(int8, reference), 0, 0.02);
    }

    [Fact]
    public void Int8_on_a_qrnn_model_is_refused_before_any_layer_changes()
    {
        using var model = new AwdLstmLanguageModel(QrnnEncoderTests.Tiny()).SetComputePrecision(ComputePrecision.BFloat16);
        var e = Assert.Throws<NotSupportedException>(() => model.SetComputePrecision(ComputePrecision.Int8));
        Assert.Contains("QRNN", e.Message);
        Assert.Equal(ComputePrecision.BFloat16, model.GetComputePrecision());
    }

    [Fact]
    public void Int8_is_parsed_only_where_inference_allows_it()
    {
        Assert.Equal(ComputePrecision.Int8, ComputePrecisions.Parse("INT8", allowInt8: true));
        var e = Assert.Throws<ArgumentException>(() => ComputePrecisions.Parse("int8"));
        Assert.Contains("inference", e.Message);
        Assert.Equal("int8", ComputePrecision.Int8.Name());
        Assert.Equal(ScalarType.Float32, ComputePrecision.Int8.TensorType());
    }

    [Fact]
    public void Availability_is_explained_when_missing()
    {
        Assert.Equal(Int8LstmLibrary.IsAvailable, Int8LstmLibrary.WhyUnavailable is null);
        if (!Int8LstmLibrary.IsAvailable) Assert.False(string.IsNullOrWhiteSpace(Int8LstmLibrary.WhyUnavailable));
    }
}
