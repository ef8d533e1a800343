import CKernels

/// The instruction set of the engine's C kernels on this CPU: the clone the loader picked ("avx512f", "x86-64-v3"
/// for AVX2 with FMA, "x86-64" for the baseline). Benchmarks report it beside their figures; it is not part of the
/// kernel identity, since every clone computes the same bits.
public enum KernelClone {
    public static let current = String(cString: lethe_kernel_clone())
}
