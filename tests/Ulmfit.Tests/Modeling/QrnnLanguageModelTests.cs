using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

[Collection(Training.TorchRandomCollection.Name)]
public class QrnnLanguageModelTests
{
    public QrnnLanguageModelTests() => TorchRuntime.Initialise(2);

    [Fact]
    public void The_state_dict_holds_the_documented_qrnn_keys_and_the_tied_matrix_once()
    {
        using var model = new AwdLstmLanguageModel(QrnnEncoderTests.Tiny());
        var keys = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = new Dictionary<string, long[]>
        {
            ["encoder.embedding.weight"] = [50, 8],
            ["encoder.rnns.0.gate_weight_raw"] = [36, 16], ["encoder.rnns.0.gate_bias"] = [36],
            ["encoder.rnns.1.gate_weight_raw"] = [36, 24], ["encoder.rnns.1.gate_bias"] = [36],
            ["encoder.rnns.2.gate_weight_raw"] = [24, 24], ["encoder.rnns.2.gate_bias"] = [24],
            ["decoder.bias"] = [50],
        };
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), keys.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in expected) Assert.Equal(shape, keys[key]);
        Assert.IsType<QrnnEncoder>(model.Encoder);
        Assert.Same(model.Encoder.Embedding.Weight, model.LayerGroups[^1].Parameters[0]);
    }

    [Fact]
    public void Layer_groups_are_one_per_qrnn_layer_then_embedding_and_decoder()
    {
        using var model = new AwdLstmLanguageModel(QrnnEncoderTests.Tiny());
        Assert.Equal(["qrnn0", "qrnn1", "qrnn2", "embedding+decoder"], model.LayerGroups.Select(g => g.Name));
        Assert.Equal(model.parameters().Count(), model.LayerGroups.Sum(g => g.Parameters.Count));
    }

    [Fact]
    public void Training_loss_falls_over_30_steps_on_a_repeating_sequence()
    {
        manual_seed(1);
        using var model = new AwdLstmLanguageModel(QrnnEncoderTests.Tiny());
        using var optimizer = optim.Adam(model.parameters(), 0.03);
        using var stream = arange(0, 400, dtype: ScalarType.Int64).remainder(7).add(10).reshape(4, 100); // a learnable pattern
        model.train();
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            long start = step * 3 % 90;
            var input = stream.narrow(1, start, 8);
            var target = stream.narrow(1, start + 1, 8);
            optimizer.zero_grad();
            var output = model.Forward(input);
            var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, 50), target.reshape(-1))
                       + ActivationRegularization.Ar(output.LastLayerDropped) + ActivationRegularization.Tar(output.LastLayerRaw);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.True(losses.TakeLast(5).Average() < 0.6 * losses.Take(5).Average(), string.Join(", ", losses.Select(l => l.ToString("F2"))));
    }
}
