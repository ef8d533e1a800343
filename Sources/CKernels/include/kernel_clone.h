#ifndef LETHE_KERNEL_CLONE_H
#define LETHE_KERNEL_CLONE_H

/// The instruction set of the C kernels' clone the loader picked on this CPU: "avx512f", "x86-64-v3" (AVX2 and
/// FMA) or "x86-64" (the baseline); "generic" where the kernels are not cloned.
const char *lethe_kernel_clone(void);

#endif
