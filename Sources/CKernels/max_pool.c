// The 2×2 max-pool after an im2col convolution at inference (Conv2d's pooled path), with the convolution's bias:
// one pass over the product plane instead of a bias pass, a pairing pass and a combining pass. Eight outputs at a
// time, a line's even and odd columns the two halves of a 16-lane load; a line whose length is not a multiple of
// eight ends with a vector overlapping the one before (it writes the same values again).
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
            const f8 top = CHOOSE(TAKES(up_right, up_left), up_right, up_left);
            const f8 bottom = CHOOSE(TAKES(down_right, down_left), down_right, down_left);
            STORE(CHOOSE(TAKES(bottom, top), bottom, top), line + k);
            if (k == out_width - 8) break;
            at = k + 8;
        }
    }
}
