// The lanes the engine's C kernels compute on, and their helpers (private to CKernels). Every kernel is compiled for
// AVX-512, AVX2 and baseline x86-64 (`LETHE_CLONES`), picked at load time, without contraction into fused
// multiply-adds: the same IEEE operations in the same order whichever clone runs, so the same bits on every CPU.
#ifndef LETHE_LANES_H
#define LETHE_LANES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#if defined(__x86_64__) && defined(__clang__)
#define LETHE_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
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

#endif
