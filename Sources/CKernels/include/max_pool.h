#ifndef LETHE_MAX_POOL_H
#define LETHE_MAX_POOL_H

#include <stdint.h>

/// A convolution's output plane (`2·out_rows` lines of `width` columns, `width` even), plus `*bias` at every element
/// when `bias` is not NULL, max-pooled over 2×2 windows with stride 2 into `out` ([out_rows, width/2]): each line's
/// neighbours paired first, then the two lines' winners, a candidate replacing the best when it is larger or a NaN
/// while the best is not (MaxPool2d's scan: the first NaN, else the first of equal maxima). Compiled for AVX-512,
/// AVX2 and baseline x86-64; the same bits whichever runs.
void lethe_biased_max_pool_2x2(const float *plane, long width, long out_rows, const float *bias, float *out);

/// Pools the first 2·`out_rows` lines of a plane of `width` (even, at least 16) columns into `out` ([out_rows,
/// width/2]) and writes each maximum's index within the plane to `positions`.
void lethe_max_pool_2x2_positions(const float *plane, long width, long out_rows, float *out, int32_t *positions);

/// The gradient of a plane of `height` × `width` (even) from its pooled gradient ([out_rows,
/// width/2]) and the maxima's `positions`: 0 + the gradient at each window's maximum, +0 elsewhere. With
/// `rectified` (the pooled output of a pool that rectified it), only positive outputs pass their gradient.
void lethe_max_pool_2x2_backward(
    const float *gradient, const int32_t *positions, const float *rectified, long height, long width, long out_rows,
    float *plane_gradient);

#endif
