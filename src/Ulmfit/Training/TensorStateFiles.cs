using TorchSharp;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>Small binary files for checkpoint state that is not a module's weights: libtorch's random generator and
/// lists of loose tensors (a model's carried recurrent state).</summary>
internal static class TensorStateFiles
{
    const string TensorListMagic = "ULMFIT-TENSORS-1";

    /// <summary>Writes the default CPU generator's state (which drives dropout masks and weight init).</summary>
    public static void SaveTorchRandom(string path)
    {
        using var state = torch.random.get_rng_state(); // uint8 bytes
        File.WriteAllBytes(path, state.bytes.ToArray());
    }

    /// <summary>Restores the default CPU generator from <see cref="SaveTorchRandom"/>'s file.</summary>
    public static void LoadTorchRandom(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        using var current = torch.random.get_rng_state();
        if (bytes.Length != current.NumberOfElements)
            throw new InvalidDataException($"{path}: random generator state is {bytes.Length} bytes, this libtorch uses {current.NumberOfElements}");
        using var state = tensor(bytes, dtype: uint8);
        torch.random.set_rng_state(state);
    }

    /// <summary>Writes <paramref name="tensors"/> (any dtype and shape) in order.</summary>
    public static void SaveTensors(string path, IReadOnlyList<Tensor> tensors)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(TensorListMagic);
        writer.Write(tensors.Count);
        foreach (var t in tensors)
        {
            using var cpu = t.detach().cpu().contiguous();
            cpu.Save(writer);
        }
    }

    /// <summary>Reads the tensors written by <see cref="SaveTensors"/>; the caller owns (and disposes) them.</summary>
    public static IReadOnlyList<Tensor> LoadTensors(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        try
        {
            if (reader.ReadString() != TensorListMagic) throw new InvalidDataException($"{path}: not a tensor list file");
            int count = reader.ReadInt32();
            var tensors = new List<Tensor>(count);
            for (int i = 0; i < count; i++) tensors.Add(Tensor.Load(reader));
            return tensors;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: tensor list file is truncated", e);
        }
    }
}
