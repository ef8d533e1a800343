#ifndef LETHE_DIRECT_CONVOLUTION_H
#define LETHE_DIRECT_CONVOLUTION_H

#include <stdint.h>

/// Floats from one line of a padded plane to the next, for planes `width` wide.
long lethe_direct_padded_width(long width);

/// `channels` planes of `height` × `width` with a border of zeros: [channels][height + 2][padded width], pixel
/// (y, x) at (y + 1, x + 1), zeros past each line (room for the 16-lane loads).
void lethe_direct_pad(const float *planes, long channels, long height, long width, float *padded);

/// One output plane (`height` × `width`, at least 4 × 16) of a 3×3 convolution with stride 1 and padding 1 over
/// `channels` padded planes: Σ over c, ky, kx (in that order, from +0) of kernel[c][ky][kx] · pixel, then + *bias
/// when `bias` is not NULL.
void lethe_direct_convolution_plane(
    const float *padded, long channels, long height, long width, const float *kernel, const float *bias,
    float *out);

/// `lethe_direct_convolution_plane`'s plane (height a multiple of 4, width even) plus *bias, max-pooled over 2×2
/// windows with stride 2 into `pooled` ([height / 2][width / 2]) as it is computed: the values
/// `lethe_biased_max_pool_2x2` takes from the written plane, and when `positions` is not NULL their indices in the
/// plane (those `lethe_max_pool_2x2_positions` finds).
void lethe_direct_convolution_pooled_plane(
    const float *padded, long channels, long height, long width, const float *kernel, const float *bias,
    float *pooled, int32_t *positions);

/// Adds one image's terms of one output channel's weight and bias gradients to `lanes` ([channels · 9 + 1][16]:
/// lane sums of each kernel element's products, then of the bias's), from the image's padded planes and the
/// output channel's gradient plane (`height` × `width`, at least 16 wide).
void lethe_direct_gradient_lanes(
    const float *padded, long channels, long height, long width, const float *gradient, float *lanes);

/// sums[i] = the 16 lanes from `lanes + 16 i` added in lane order.
void lethe_direct_reduce_lanes(const float *lanes, long count, float *sums);

#endif
