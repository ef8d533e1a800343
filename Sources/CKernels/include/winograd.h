#ifndef LETHE_CWINOGRAD_H
#define LETHE_CWINOGRAD_H

#include <stdint.h>

/// Winograd F(2×2, 3×3) transforms (NN's WinogradTiling has the formulas and the layouts). Each is compiled
/// for AVX-512, AVX2 and baseline x86-64, picked at load time; every element is the same sequence of IEEE
/// additions, subtractions and negations whichever runs (no contraction into fused multiply-adds), so the
/// bits do not depend on the CPU. Transformed matrices are [16][channel][stride], tiles numbered image by
/// image, then row by row; only the channels [channel_begin, channel_end) are transformed.

/// V = Bᵀ d B for every 4×4 window of `image_count` images' planes ([images, channel_count, height, width]).
void lethe_winograd_transform_input(
    const float *input, long height, long width, long image_count, long channel_count, long channel_begin,
    long channel_end, float *v, long stride);

/// Y = Aᵀ M A + bias into the output planes ([images, out_channel_count, height, width]); `bias` may be NULL
/// (then +0 is added, as with a zero bias).
void lethe_winograd_transform_output(
    const float *m, long stride, long height, long width, long out_channel_count, long channel_begin,
    long channel_end, long image_count, const float *bias, float *output);

/// The same followed by a 2×2, stride-2 max-pool (NaN-propagating, first maximum wins) into [images,
/// out_channel_count, height/2, width/2], with each maximum's index in its plane into `positions`; `width` must be
/// even.
void lethe_winograd_transform_output_pooled(
    const float *m, long stride, long height, long width, long out_channel_count, long channel_begin,
    long channel_end, long image_count, const float *bias, float *pooled, int32_t *positions);

/// ∂M = A ∂Y Aᵀ for every tile of the output gradient ([images, out_channel_count, height, width]).
void lethe_winograd_transform_output_gradient(
    const float *gradient, long height, long width, long image_count, long out_channel_count, long channel_begin,
    long channel_end, float *dm, long stride);

/// ∂d = B ∂V Bᵀ for every tile, overlapping windows added tile row by tile row, written whole into `gradient`
/// ([images, channel_count, height, width]).
void lethe_winograd_input_gradient(
    const float *dv, long stride, long height, long width, long channel_count, long channel_begin, long channel_end,
    long image_count, float *gradient);

#endif
