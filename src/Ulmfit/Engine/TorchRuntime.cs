using System.Runtime.InteropServices;
using TorchSharp;

namespace Ulmfit.Engine;

/// <summary>
/// One place that configures the libtorch engine for the process: thread counts and what the CPU offers.
/// libtorch's thread pool is process-wide, so these settings are too.
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _initialised;

    /// <summary>Loads the native engine (once) and sets the intra-op thread count; 0 or less means all cores.</summary>
    public static void Initialise(int threads = 0)
    {
        lock (Gate)
        {
            if (!_initialised) OpenMpSpinLimit.Apply(); // before libtorch (and its OpenMP runtime) loads
            int wanted = threads > 0 ? threads : Environment.ProcessorCount;
            if (!_initialised)
            {
                // Inter-op threads can only be set before the first parallel work; one is right for our workloads,
                // which parallelise inside each operator.
                try { torch.set_num_interop_threads(1); } catch (ExternalException) { }
                _initialised = true;
            }
            if (torch.get_num_threads() != wanted) torch.set_num_threads(wanted);
        }
    }

    /// <summary>Intra-op threads libtorch is using now.</summary>
    public static int Threads => torch.get_num_threads();

    /// <summary>The libtorch version string compiled into TorchSharp.</summary>
    public static string LibTorchVersion => torch.__version__;
}
