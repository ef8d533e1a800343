#ifndef LETHE_MAX_POOL_H
#define LETHE_MAX_POOL_H

/// A convolution's output plane (`2·out_rows` lines of `width` columns, `width` even), plus `*bias` at every element
/// when `bias` is not NULL, max-pooled over 2×2 windows with stride 2 into `out` ([out_rows, width/2]): each line's
/// neighbours paired first, then the two lines' winners, a candidate replacing the best when it is larger or a NaN
/// while the best is not (MaxPool2d's scan: the first NaN, else the first of equal maxima). Compiled for AVX-512,
/// AVX2 and baseline x86-64; the same bits whichever runs.
void lethe_biased_max_pool_2x2(const float *plane, long width, long out_rows, const float *bias, float *out);

#endif
