#ifndef LETHE_CWINOGRAD4_H
#define LETHE_CWINOGRAD4_H

#include <stdint.h>

/// Winograd F(4×4, 3×3) transforms (NN's Winograd4Tiling has the formulas and the layouts): 6×6
/// windows of input, 4×4 blocks of output. Each is compiled for AVX-512, AVX2 and baseline x86-64, picked at
/// load time; every element is the same sequence of IEEE operations whichever runs (no contraction into fused
/// multiply-adds), so the bits do not depend on the CPU. Transformed matrices are [36][channel][stride], tiles
/// numbered image by image, then row by row, `stride` floats from one channel's row to the next and
/// `position_stride` from one position's matrix to the next; only the channels [channel_begin, channel_end) are
/// transformed.

/// V = Bᵀ d B for every 6×6 window d of `image_count` images' planes ([images, channel_count, height, width];
/// zero outside), the windows 4 apart from (−1, −1).
void lethe_winograd4_transform_input(
    const float *input, long height, long width, long image_count, long channel_count, long channel_begin,
    long channel_end, float *v, long stride, long position_stride);

/// Y = Aᵀ M A + bias into the output planes ([images, out_channel_count, height, width]); `bias` may be NULL
/// (then +0 is added, as with a zero bias).
void lethe_winograd4_transform_output(
    const float *m, long stride, long position_stride, long height, long width, long out_channel_count,
    long channel_begin, long channel_end, long image_count, const float *bias, float *output);

/// The same followed by a 2×2, stride-2 max-pool (NaN-propagating, first maximum wins: each line's pair, then the
/// two lines' winners) into [images, out_channel_count, height/2, width/2]; then, when `rectify`, a ReLU; with each
/// maximum's index in its plane into `positions` when it is not NULL. `width` must be even.
void lethe_winograd4_transform_output_pooled(
    const float *m, long stride, long position_stride, long height, long width, long out_channel_count,
    long channel_begin, long channel_end, long image_count, const float *bias, int rectify, float *pooled,
    int32_t *positions);

/// ∂M = A ∂Y Aᵀ for every tile of the output gradient ([images, out_channel_count, height, width]; zero past the
/// planes' edges).
void lethe_winograd4_transform_output_gradient(
    const float *gradient, long height, long width, long image_count, long out_channel_count, long channel_begin,
    long channel_end, float *dm, long stride, long position_stride);

/// The input gradient ([images, channel_count, height, width], written whole) from ∂V: ∂d = B ∂V Bᵀ for every
/// tile, the windows' overlapping pixels added up tile after tile.
void lethe_winograd4_input_gradient(
    const float *dv, long stride, long position_stride, long height, long width, long channel_count,
    long channel_begin, long channel_end, long image_count, float *gradient);

/// U[·][k] = G g Gᵀ for the kernels g = weight[k] ([kernels][3][3]) with k in [begin, end), into `u`
/// ([36][kernels]).
void lethe_winograd4_transform_weights(const float *weight, long kernels, long begin, long end, float *u);

/// ∂weight[k] = Gᵀ ∂U[·][k] G for each of `kernels` kernels: ∂U is [36][kernels], the gradient
/// [kernels][3][3], written whole.
void lethe_winograd4_weight_gradient(const float *du, long kernels, float *gradient);

#endif
