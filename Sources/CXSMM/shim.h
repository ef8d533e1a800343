#include <libxsmm.h>

/* libxsmm's kernels are variadic function pointers, which Swift cannot call. */
static inline void lethe_xsmm_call(libxsmm_smmfunction kernel, const float *a, const float *b, float *c) {
    kernel(a, b, c);
}
