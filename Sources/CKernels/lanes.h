// The lanes the engine's C kernels compute on, and their helpers (private to CKernels). Every kernel is compiled for
// AVX-512, AVX2 with FMA and baseline x86-64 (`LETHE_CLONES`), picked at load time, without contraction into fused
// multiply-adds (a kernel that fuses says so with an explicit one, which libm computes in the baseline clone): the
// same IEEE operations in the same order whichever clone runs, so the same bits on every CPU. The AVX2 clone is
// `arch=x86-64-v3` (AVX2, FMA, BMI…), which the loader picks by the CPU's features: `arch=haswell` was picked only
// on CPUs that identify as Haswell, so AMD's Zen and Intel's later cores without AVX-512 ran the baseline clone,
// with a libm call per fused multiply-add (training 3.7× and inference 7.7× slower on a Zen 3).
#ifndef LETHE_LANES_H
#define LETHE_LANES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// kernel_clone.c names the clones by their symbols: change both together.
#if defined(__x86_64__) && defined(__clang__)
#define LETHE_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define LETHE_CLONES
#endif

typedef float f8 __attribute__((vector_size(32)));
typedef float f16 __attribute__((vector_size(64)));
typedef int32_t i8 __attribute__((vector_size(32)));

// Vector helpers are macros: a function passing 256-bit vectors by value would have a different ABI in each clone.
#define LOAD(type, p) \
    ({ \
        type loaded_; \
        memcpy(&loaded_, (p), sizeof loaded_); \
        loaded_; \
    })
#define STORE(v, p) \
    do { \
        const __typeof__(v) stored_ = (v); \
        memcpy((p), &stored_, sizeof stored_); \
    } while (0)
#define LOAD8(p) LOAD(f8, p)
#define LOAD16(p) LOAD(f16, p)
#define EVEN_HALF(v) __builtin_shufflevector((v), (v), 0, 2, 4, 6, 8, 10, 12, 14)
#define ODD_HALF(v) __builtin_shufflevector((v), (v), 1, 3, 5, 7, 9, 11, 13, 15)
/// (a[0], b[0], a[1], b[1], …, a[7], b[7])
#define INTERLEAVING(a, b) __builtin_shufflevector((a), (b), 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)
/// (carry, v[0], …, v[6])
#define SHIFTED_UP(v, carry) \
    ({ \
        const f8 carried_ = {(carry)}; \
        __builtin_shufflevector(carried_, (v), 0, 8, 9, 10, 11, 12, 13, 14); \
    })
/// `when` where `mask` is set (all ones), else `otherwise`.
#define CHOOSE(mask, when, otherwise) ((f8)(((mask) & (i8)(when)) | (~(mask) & (i8)(otherwise))))
/// Lanes l with `first + l` ≥ `limit`, as an all-ones mask.
#define LANES_FROM(first, limit) \
    ({ \
        const i8 lane_ = {0, 1, 2, 3, 4, 5, 6, 7}; \
        lane_ >= (i8){} + (int32_t)((limit) - (first)); \
    })
/// Where `candidate` replaces `best` in a max-pool's scan: it is larger, or a NaN while `best` is not.
#define TAKES(candidate, best) (~((candidate) <= (best)) & ((best) == (best)))
/// The indices `when` where `mask` is set (all ones), else `otherwise`.
#define CHOOSE_INDEX(mask, when, otherwise) (((mask) & (when)) | (~(mask) & (otherwise)))
/// Lanes 0…7's even offsets from `first`: the left elements of eight neighbouring pairs.
#define PAIR_STARTS(first) ((i8){0, 2, 4, 6, 8, 10, 12, 14} + (int32_t)(first))

/// Eight 2×2 windows from their lines' left and right elements, as MaxPool2d scans them (each line's pair first,
/// then the two lines' winners: the first NaN, else the first of equal maxima): their maxima into `maxima` and, when
/// `at` is not NULL, the maxima's indices, the windows' top-left elements being at `top_left_at` and the lines
/// `width` apart.
__attribute__((always_inline)) static inline void pool_windows(
    const f8 *up_left, const f8 *up_right, const f8 *down_left, const f8 *down_right, const i8 *top_left_at,
    long width, f8 *maxima, i8 *at) {
    const i8 up_takes = TAKES(*up_right, *up_left), down_takes = TAKES(*down_right, *down_left);
    const f8 top = CHOOSE(up_takes, *up_right, *up_left), bottom = CHOOSE(down_takes, *down_right, *down_left);
    const i8 lower_takes = TAKES(bottom, top);
    *maxima = CHOOSE(lower_takes, bottom, top);
    if (!at) return;
    const i8 bottom_left_at = *top_left_at + (int32_t)width;
    const i8 top_at = CHOOSE_INDEX(up_takes, *top_left_at + 1, *top_left_at);
    const i8 bottom_at = CHOOSE_INDEX(down_takes, bottom_left_at + 1, bottom_left_at);
    *at = CHOOSE_INDEX(lower_takes, bottom_at, top_at);
}

#endif
