using System.Runtime.InteropServices;
using Ulmfit.Engine;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// One LSTM layer's weights quantized to int8 and packed for the native fused kernel (<c>native/int8_lstm.c</c>), and
/// the inference forward pass over them: input products, recurrent products, gates and cell update in one native call
/// per layer, float32 in and out. Weights are per-row int8; each row of the input and of the hidden state gets its own
/// scale. Inference only: there is no backward pass.
/// </summary>
internal sealed partial class Int8LstmKernel : IDisposable
{
    readonly PackedLayer _packed;

    Int8LstmKernel(PackedLayer packed, long inputSize, long hiddenSize)
    {
        _packed = packed;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
    }

    public long InputSize { get; }

    public long HiddenSize { get; }

    /// <summary>Quantizes and packs a layer given in PyTorch's layout: weights (4·hidden, input) and (4·hidden, hidden),
    /// biases (4·hidden), gates i, f, g, o. The tensors are read, not kept.</summary>
    /// <exception cref="PlatformNotSupportedException">The kernel cannot run here (<see cref="Int8LstmLibrary.WhyUnavailable"/>).</exception>
    public static unsafe Int8LstmKernel Pack(Tensor inputWeight, Tensor hiddenWeight, Tensor inputBias, Tensor hiddenBias)
    {
        if (Int8LstmLibrary.WhyUnavailable is { } why) throw new PlatformNotSupportedException(why);
        long hidden = hiddenWeight.shape[1], input = inputWeight.shape[1];
        if (hidden > int.MaxValue / 4 || input > int.MaxValue) throw new ArgumentException("layer too large for the int8 kernel");
        using var _ = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor Host(Tensor t) => t.detach().to(ScalarType.Float32, CPU).contiguous();
        var wi = Host(inputWeight); var wh = Host(hiddenWeight); var bi = Host(inputBias); var bh = Host(hiddenBias);
        IntPtr handle = Int8LstmLibrary.Pack(DataOf(wi), DataOf(wh), DataOf(bi),
            DataOf(bh), (int)input, (int)hidden);
        if (handle == IntPtr.Zero) throw new OutOfMemoryException("the int8 LSTM kernel could not allocate its packed weights");
        return new Int8LstmKernel(new PackedLayer(handle), input, hidden);
    }

    /// <summary>
    /// Runs the layer over <paramref name="input"/> (batch, seq, input) from (h0, c0), each (1, batch, hidden) or null for
    /// zeros, on <paramref name="threads"/> threads, computing on <paramref name="path"/> (default: the fastest this CPU
    /// runs). Returns the output (batch, seq, hidden) and the final state (1, batch, hidden) each, float32 on the CPU.
    /// </summary>
    public unsafe (Tensor Output, Tensor Hidden, Tensor Cell) Forward(Tensor input, Tensor? h0, Tensor? c0, int threads, Int8LstmPath? path = null)
    {
        var chosen = path ?? Int8LstmLibrary.DefaultPath ?? throw new PlatformNotSupportedException(Int8LstmLibrary.WhyUnavailable);
        if (Int8LstmLibrary.WhyPathUnavailable(chosen) is { } why) throw new PlatformNotSupportedException(why);
        ObjectDisposedException.ThrowIf(_packed.IsInvalid || _packed.IsClosed, this);
        long batch = input.shape[0], steps = input.shape[1];
        if (batch > int.MaxValue || steps > int.MaxValue) throw new ArgumentException("batch or sequence too long for the int8 kernel");
        using var x = input.to(ScalarType.Float32, CPU).contiguous();                     // (batch, seq, input)
        using var h = h0?.to(ScalarType.Float32, CPU).contiguous();                      // (1, batch, hidden)
        using var c = c0?.to(ScalarType.Float32, CPU).contiguous();
        var output = empty(batch, steps, HiddenSize, ScalarType.Float32);
        var hn = empty(1, batch, HiddenSize, ScalarType.Float32);
        var cn = empty(1, batch, HiddenSize, ScalarType.Float32);
        bool added = false;
        try
        {
            _packed.DangerousAddRef(ref added);
            int rc = Int8LstmLibrary.Forward(_packed.DangerousGetHandle(), DataOf(x), (int)batch, (int)steps,
                h is null ? null : DataOf(h), c is null ? null : DataOf(c),
                DataOf(output), DataOf(hn), DataOf(cn), Math.Max(1, threads), (int)chosen);
            if (rc != 0)
                throw rc == -2 ? new OutOfMemoryException("the int8 LSTM kernel could not allocate its buffers or threads")
                               : new ArgumentException("the int8 LSTM kernel refused its arguments");
        }
        catch
        {
            output.Dispose(); hn.Dispose(); cn.Dispose();
            throw;
        }
        finally
        {
            if (added) _packed.DangerousRelease();
        }
        return (output, hn, cn);
    }

    public void Dispose() => _packed.Dispose();

    /// <summary>The first element of <paramref name="t"/>, which must be a contiguous float32 CPU tensor that the caller
    /// keeps alive for as long as the pointer is used. TorchSharp exposes no data pointer, so this asks its native
    /// library for the storage's start and adds the view's offset.</summary>
    static unsafe float* DataOf(Tensor t)
    {
        if (t.dtype != ScalarType.Float32 || t.device_type != TorchSharp.DeviceType.CPU || !t.is_contiguous())
            throw new ArgumentException("the int8 kernel needs contiguous float32 CPU tensors");
        return (float*)StorageData(t.Handle) + StorageOffset(t.Handle);
    }

    [LibraryImport("LibTorchSharp", EntryPoint = "THSStorage_data_ptr")]
    private static partial IntPtr StorageData(IntPtr tensor);

    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_storage_offset")]
    private static partial long StorageOffset(IntPtr tensor);

    /// <summary>Owns the native packed layer, so it is freed once even if the kernel object is never disposed.</summary>
    sealed class PackedLayer : SafeHandle
    {
        public PackedLayer(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            Int8LstmLibrary.Free(handle);
            return true;
        }
    }
}
