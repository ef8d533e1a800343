// The common 2×2, stride-2 max-pool: at inference after an im2col convolution (Conv2d's pooled path, with the
// convolution's bias), and in training with each maximum's position and its backward pass (MaxPool2d). One pass
// over a plane each. Eight outputs at a time, a line's even and odd columns the two halves of a 16-lane load; a line
// whose length is not a multiple of eight ends with a vector overlapping the one before (it writes the same values
// again). A window's maximum is the element a scan in the order top-left, top-right, bottom-left, bottom-right takes:
// the first NaN, else the first of equal maxima (each line's pair first, then the two lines' winners).
#include "max_pool.h"
#include "lanes.h"

/// The scalar `TAKES`.
static inline int takes(float candidate, float best) { return !(candidate <= best) && best == best; }

LETHE_CLONES
void lethe_biased_max_pool_2x2(const float *plane, long width, long out_rows, const float *bias, float *out) {
    const long out_width = width / 2;
    const float b = bias ? *bias : 0.0f;
    const f16 lanes_bias = {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b};
    for (long row = 0; row < out_rows; row++) {
        const float *upper = plane + 2 * row * width, *lower = upper + width;
        float *line = out + row * out_width;
        if (out_width < 8) {
            for (long k = 0; k < out_width; k++) {
                float ul = upper[2 * k], ur = upper[2 * k + 1], ll = lower[2 * k], lr = lower[2 * k + 1];
                if (bias) ul += b, ur += b, ll += b, lr += b;
                const float top = takes(ur, ul) ? ur : ul, bottom = takes(lr, ll) ? lr : ll;
                line[k] = takes(bottom, top) ? bottom : top;
            }
            continue;
        }
        for (long at = 0;;) {
            const long k = at < out_width - 8 ? at : out_width - 8;
            f16 up = LOAD16(upper + 2 * k), down = LOAD16(lower + 2 * k);
            if (bias) up += lanes_bias, down += lanes_bias;
            const f8 up_left = EVEN_HALF(up), up_right = ODD_HALF(up);
            const f8 down_left = EVEN_HALF(down), down_right = ODD_HALF(down);
            f8 maxima;
            pool_windows(&up_left, &up_right, &down_left, &down_right, NULL, width, &maxima, NULL);
            STORE(maxima, line + k);
            if (k == out_width - 8) break;
            at = k + 8;
        }
    }
}

LETHE_CLONES
void lethe_max_pool_2x2_positions(const float *plane, long width, long out_rows, float *out, int32_t *positions) {
    const long out_width = width / 2;
    for (long row = 0; row < out_rows; row++) {
        const float *upper = plane + 2 * row * width, *lower = upper + width;
        for (long at = 0;;) {
            const long k = at < out_width - 8 ? at : out_width - 8;
            const f16 up = LOAD16(upper + 2 * k), down = LOAD16(lower + 2 * k);
            const f8 up_left = EVEN_HALF(up), up_right = ODD_HALF(up);
            const f8 down_left = EVEN_HALF(down), down_right = ODD_HALF(down);
            const i8 top_left_at = PAIR_STARTS(2 * row * width + 2 * k);
            f8 maxima;
            i8 at_maxima;
            pool_windows(&up_left, &up_right, &down_left, &down_right, &top_left_at, width, &maxima, &at_maxima);
            STORE(maxima, out + row * out_width + k);
            STORE(at_maxima, positions + row * out_width + k);
            if (k == out_width - 8) break;
            at = k + 8;
        }
    }
}

LETHE_CLONES
void lethe_max_pool_2x2_backward(
    const float *gradient, const int32_t *positions, const float *rectified, long height, long width, long out_rows,
    float *plane_gradient) {
    const long out_width = width / 2;
    const f8 zero = {0};
    if (out_width < 8) {
        // Fewer than eight windows a line: zeros, then each window's gradient at its maximum, as below (0 + g).
        memset(plane_gradient, 0, sizeof(float) * (size_t)(height * width));
        for (long i = 0; i < out_rows * out_width; i++) {
            const float g = gradient[i];
            plane_gradient[positions[i]] = 0.0f + (rectified ? (rectified[i] > 0.0f ? g : 0.0f) : g);
        }
        return;
    }
    for (long row = 0; row < out_rows; row++) {
        float *upper = plane_gradient + 2 * row * width, *lower = upper + width;
        for (long at = 0;;) {
            const long k = at < out_width - 8 ? at : out_width - 8;
            const long first = row * out_width + k;
            f8 g = LOAD8(gradient + first);
            if (rectified) g = CHOOSE(LOAD8(rectified + first) > zero, g, zero);
            // Added to the zero the element held, as a scatter into a zeroed plane would (−0 becomes +0).
            const f8 spread = zero + g;
            const i8 offset = LOAD(i8, positions + first) - PAIR_STARTS(2 * row * width + 2 * k);
            const f8 top_left = CHOOSE(offset == 0, spread, zero), top_right = CHOOSE(offset == 1, spread, zero);
            const f8 bottom_left = CHOOSE(offset == (int32_t)width, spread, zero);
            const f8 bottom_right = CHOOSE(offset == (int32_t)width + 1, spread, zero);
            STORE(INTERLEAVING(top_left, top_right), upper + 2 * k);
            STORE(INTERLEAVING(bottom_left, bottom_right), lower + 2 * k);
            if (k == out_width - 8) break;
            at = k + 8;
        }
    }
    // An odd height's last line is in no window.
    memset(plane_gradient + 2 * out_rows * width, 0, sizeof(float) * (size_t)((height - 2 * out_rows) * width));
}
