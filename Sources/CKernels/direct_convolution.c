// 3×3 convolutions with stride 1 and padding 1 over few input channels (conv1 of fmnist-cnn: one), computed
// directly from zero-padded planes instead of through a column matrix and a GEMM with an inner dimension of 9:
// the forward pass, the input gradient (the same kernel over the padded output gradient, with the weights
// transposed and flipped) and the weight and bias gradients (per-lane sums, reduced in lane order). Sixteen
// output columns at a time, four lines at a time in the forward pass so that four independent sums overlap; a
// line's last block overlaps the one before where the width is not a multiple of 16 (it computes the same values
// again). Every output is the same IEEE products and additions in the same order whichever clone runs.
#include "direct_convolution.h"
#include "lanes.h"

typedef int32_t i16 __attribute__((vector_size(64)));
#define SPLAT16(x) ((f16){0} + (x))
/// a · b + c rounded once (a fused multiply-add in every clone: the instruction, or libm's fmaf).
#define FMA16(a, b, c) __builtin_elementwise_fma((a), (b), (c))

long lethe_direct_padded_width(long width) { return (width + 15) / 16 * 16 + 16; }

LETHE_CLONES
void lethe_direct_pad(const float *planes, long channels, long height, long width, float *padded) {
    const long pw = lethe_direct_padded_width(width), ph = height + 2;
    memset(padded, 0, sizeof(float) * (size_t)(channels * ph * pw));
    for (long c = 0; c < channels; c++)
        for (long y = 0; y < height; y++)
            memcpy(padded + (c * ph + y + 1) * pw + 1, planes + (c * height + y) * width, sizeof(float) * (size_t)width);
}

/// The four lines' sums of the 16 columns from `x` on lines `y`…`y + 3` of one output plane (see
/// `lethe_direct_convolution_plane`).
#define DIRECT_SUMS(sum, padded, channels, ph, pw, kernel, y, x) \
    do { \
        for (long c_ = 0; c_ < (channels); c_++) { \
            const float *rows_ = (padded) + (c_ * (ph) + (y)) * (pw) + (x); \
            const float *k_ = (kernel) + c_ * 9; \
            for (int ky_ = 0; ky_ < 3; ky_++) \
                for (int kx_ = 0; kx_ < 3; kx_++) { \
                    const f16 w_ = SPLAT16(k_[ky_ * 3 + kx_]); \
                    for (int line_ = 0; line_ < 4; line_++) \
                        (sum)[line_] = FMA16(w_, LOAD16(rows_ + (line_ + ky_) * (pw) + kx_), (sum)[line_]); \
                } \
        } \
    } while (0)

LETHE_CLONES
void lethe_direct_convolution_plane(
    const float *padded, long channels, long height, long width, const float *kernel, const float *bias,
    float *out) {
    const long pw = lethe_direct_padded_width(width), ph = height + 2;
    for (long group = 0;; group += 4) {
        const long y = group + 4 <= height ? group : height - 4;
        for (long at = 0;;) {
            const long x = at + 16 <= width ? at : width - 16;
            f16 sum[4] = {{0}, {0}, {0}, {0}};
            DIRECT_SUMS(sum, padded, channels, ph, pw, kernel, y, x);
            for (int line = 0; line < 4; line++) {
                const f16 value = bias ? sum[line] + SPLAT16(*bias) : sum[line];
                STORE(value, out + (y + line) * width + x);
            }
            if (x + 16 >= width) break;
            at = x + 16;
        }
        if (y + 4 >= height) break;
    }
}

LETHE_CLONES
void lethe_direct_convolution_pooled_plane(
    const float *padded, long channels, long height, long width, const float *kernel, const float *bias,
    float *pooled, int32_t *positions) {
    const long pw = lethe_direct_padded_width(width), ph = height + 2, pooled_width = width / 2;
    const f16 lanes_bias = SPLAT16(bias ? *bias : 0.0f);
    for (long y = 0; y < height; y += 4) {
        for (long at = 0;;) {
            const long x = at + 16 <= width ? at : width - 16;
            f16 sum[4] = {{0}, {0}, {0}, {0}};
            DIRECT_SUMS(sum, padded, channels, ph, pw, kernel, y, x);
            for (int pair = 0; pair < 2; pair++) {
                const f16 up = bias ? sum[2 * pair] + lanes_bias : sum[2 * pair];
                const f16 down = bias ? sum[2 * pair + 1] + lanes_bias : sum[2 * pair + 1];
                const f8 up_left = EVEN_HALF(up), up_right = ODD_HALF(up);
                const f8 down_left = EVEN_HALF(down), down_right = ODD_HALF(down);
                const i8 top_left_at = PAIR_STARTS((y + 2 * pair) * width + x);
                f8 maxima;
                i8 at_maxima;
                pool_windows(
                    &up_left, &up_right, &down_left, &down_right, &top_left_at, width, &maxima,
                    positions ? &at_maxima : NULL);
                const long at_pooled = (y / 2 + pair) * pooled_width + x / 2;
                STORE(maxima, pooled + at_pooled);
                if (positions) STORE(at_maxima, positions + at_pooled);
            }
            if (x + 16 >= width) break;
            at = x + 16;
        }
    }
}

/// `lethe_direct_gradient_lanes` on the lanes from `first` on that a `vector` holds (`ivector`: as many int32s).
/// Whole blocks of 16 columns, then (where the width is not a multiple of 16) the line's last 16 columns with the
/// lanes the blocks covered masked out: their products add nothing (not even a NaN from an infinite pixel). A
/// lane's sums are independent of the other lanes', so they are the same bits in one pass of 16 or two of 8.
#define GRADIENT_LANES(vector, ivector, first) \
    do { \
        ivector lane_; \
        for (int j_ = 0; j_ < (int)(sizeof(vector) / sizeof(float)); j_++) lane_[j_] = (int32_t)((first) + j_); \
        const ivector fresh_ = lane_ >= (int32_t)(whole - last); \
        for (long c_ = 0; c_ < channels; c_++) { \
            vector sums_[9]; \
            for (int k_ = 0; k_ < 9; k_++) sums_[k_] = LOAD(vector, lanes + (c_ * 9 + k_) * 16 + (first)); \
            for (long y_ = 0; y_ < height; y_++) { \
                const float *line_ = gradient + y_ * width + (first); \
                const float *rows_ = padded + (c_ * ph + y_) * pw + (first); \
                for (long x_ = 0; x_ < whole; x_ += 16) { \
                    const vector g_ = LOAD(vector, line_ + x_); \
                    for (int k_ = 0; k_ < 9; k_++) \
                        sums_[k_] = __builtin_elementwise_fma( \
                            g_, LOAD(vector, rows_ + (k_ / 3) * pw + k_ % 3 + x_), sums_[k_]); \
                } \
                if (whole == width) continue; \
                const vector g_ = LOAD(vector, line_ + last); \
                for (int k_ = 0; k_ < 9; k_++) { \
                    const vector product_ = g_ * LOAD(vector, rows_ + (k_ / 3) * pw + k_ % 3 + last); \
                    sums_[k_] += (vector)((ivector)product_ & fresh_); \
                } \
            } \
            for (int k_ = 0; k_ < 9; k_++) STORE(sums_[k_], lanes + (c_ * 9 + k_) * 16 + (first)); \
        } \
        vector bias_ = LOAD(vector, lanes + channels * 9 * 16 + (first)); \
        for (long y_ = 0; y_ < height; y_++) { \
            const float *line_ = gradient + y_ * width + (first); \
            for (long x_ = 0; x_ < whole; x_ += 16) bias_ += LOAD(vector, line_ + x_); \
            if (whole != width) bias_ += (vector)((ivector)LOAD(vector, line_ + last) & fresh_); \
        } \
        STORE(bias_, lanes + channels * 9 * 16 + (first)); \
    } while (0)

LETHE_CLONES
void lethe_direct_gradient_lanes(
    const float *padded, long channels, long height, long width, const float *gradient, float *lanes) {
    const long pw = lethe_direct_padded_width(width), ph = height + 2;
    const long whole = width / 16 * 16, last = width - 16;
    // AVX-512 keeps 16 lanes' nine sums in nine registers. AVX2's sixteen registers do not hold their eighteen
    // halves (the sums went to the stack and back on every block), so there the lanes go in two halves.
    if (__builtin_cpu_supports("avx512f")) {
        GRADIENT_LANES(f16, i16, 0);
    } else {
        GRADIENT_LANES(f8, i8, 0);
        GRADIENT_LANES(f8, i8, 8);
    }
}

void lethe_direct_reduce_lanes(const float *lanes, long count, float *sums) {
    for (long i = 0; i < count; i++) {
        float sum = lanes[16 * i];
        for (int lane = 1; lane < 16; lane++) sum += lanes[16 * i + lane];
        sums[i] = sum;
    }
}
