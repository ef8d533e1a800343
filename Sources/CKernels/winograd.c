// Winograd F(2×2, 3×3) transforms, in C so that they can be compiled for the vectors of the CPU they run on (Swift
// builds for baseline x86-64, where eight lanes are two SSE registers). The formulas and layouts are
// WinogradTiling's (NN). Eight tiles of a tile row at a time, a line's even and odd columns the two halves of a
// 16-lane load; lanes past a tile row read and write what the layouts leave room for (a row's padding, or the
// next tile row, written after). Every element is the same IEEE additions, subtractions and negations in the same
// order whichever clone runs, and nothing is contracted into fused multiply-adds: the same bits on every CPU.
#include "winograd.h"
#include "lanes.h"

/// A plane's tiles: rows and columns of 2×2 output blocks (an odd edge's last block half outside).
struct tiling {
    long rows, columns, per_image, plane;
};

static struct tiling tiling_of(long height, long width) {
    const long rows = (height + 1) / 2, columns = (width + 1) / 2;
    return (struct tiling){rows, columns, rows * columns, height * width};
}

/// `count` zeroed elements of `size` bytes (the process stops if memory runs out, as Swift's allocations do).
static void *zeroed_elements(long count, size_t size) {
    void *memory = calloc((size_t)count, size);
    if (!memory) abort();
    return memory;
}

static float *zeroed(long count) { return zeroed_elements(count, sizeof(float)); }

LETHE_CLONES
void lethe_winograd_transform_input(
    const float *input, long height, long width, long image_count, long channel_count, long channel_begin,
    long channel_end, float *v, long stride) {
    const struct tiling g = tiling_of(height, width);
    const long tile_rows = g.rows, tile_columns = g.columns, tiles_per_image = g.per_image, plane = g.plane;
    const long position_stride = channel_count * stride;
    // Bᵀ d's four lines for every tile row (line 4·ty + i, column x + 1 from input column x; the padding columns
    // stay zero, with room for the last tiles' 16-lane loads), then a zero line. All tile rows are transformed
    // down before any across, so that the loads do not wait on the stores that wrote their lines.
    const long length = 2 * tile_columns + 18, lines = 4 * tile_rows;
    float *t = zeroed((lines + 1) * length);
    const float *zeros = t + lines * length;
    for (long image = 0; image < image_count; image++) {
        for (long c = channel_begin; c < channel_end; c++) {
            const float *source = input + (image * channel_count + c) * plane;
            for (long ty = 0; ty < tile_rows; ty++) {
                const float *d[4];
                for (long i = 0; i < 4; i++) {
                    const long y = 2 * ty - 1 + i;
                    d[i] = y >= 0 && y < height ? source + y * width : zeros;
                }
                float *t0 = t + 4 * ty * length + 1;
                if (width < 8) {
                    for (long x = 0; x < width; x++) {
                        const float a = d[0][x], b = d[1][x], cc = d[2][x], dd = d[3][x];
                        t0[x] = a - cc;
                        t0[length + x] = b + cc;
                        t0[2 * length + x] = cc - b;
                        t0[3 * length + x] = b - dd;
                    }
                    continue;
                }
                // Eight columns at a time, the last eight overlapping the ones before where the width is not a
                // multiple of eight (they write the same values again).
                for (long x = 0;; x += 8) {
                    if (x + 8 > width) x = width - 8;
                    const f8 a = LOAD8(d[0] + x), b = LOAD8(d[1] + x), cc = LOAD8(d[2] + x), dd = LOAD8(d[3] + x);
                    STORE(a - cc, t0 + x);
                    STORE(b + cc, t0 + length + x);
                    STORE(cc - b, t0 + 2 * length + x);
                    STORE(b - dd, t0 + 3 * length + x);
                    if (x + 8 >= width) break;
                }
            }
            for (long ty = 0; ty < tile_rows; ty++) {
                float *tiles = v + c * stride + image * tiles_per_image + ty * tile_columns;
                for (long tx = 0; tx < tile_columns; tx += 8) {
                    // Row i of (Bᵀ d) B from columns (2k, 2k + 1, 2k + 2, 2k + 3) = (e, o, f, p) of row i:
                    // (e − f, o + f, f − o, o − p).
                    for (long i = 0; i < 4; i++) {
                        const float *row = t + (4 * ty + i) * length + 2 * tx;
                        const f16 near = LOAD16(row), far = LOAD16(row + 2);
                        const f8 e = EVEN_HALF(near), o = ODD_HALF(near), f = EVEN_HALF(far), p = ODD_HALF(far);
                        float *out = tiles + 4 * i * position_stride + tx;
                        STORE(e - f, out);
                        STORE(o + f, out + position_stride);
                        STORE(f - o, out + 2 * position_stride);
                        STORE(o - p, out + 3 * position_stride);
                    }
                }
            }
        }
    }
    free(t);
}

/// Line r (0: top, 1: bottom) of Y = Aᵀ M A + bias for eight tiles, whose M[ξ] start at `tiles` with
/// `position_stride` floats from one position to the next: each tile's left and right output.
__attribute__((always_inline)) static inline void output_row(
    int r, const float *tiles, long position_stride, const f8 *bias, f8 *left, f8 *right) {
    f8 column[4];
    for (int j = 0; j < 4; j++) {
        const f8 m0 = LOAD8(tiles + j * position_stride), m1 = LOAD8(tiles + (4 + j) * position_stride);
        const f8 m2 = LOAD8(tiles + (8 + j) * position_stride), m3 = LOAD8(tiles + (12 + j) * position_stride);
        column[j] = r == 0 ? (m0 + m1) + m2 : (m1 - m2) - m3;
    }
    *left = ((column[0] + column[1]) + column[2]) + *bias;
    *right = ((column[1] - column[2]) - column[3]) + *bias;
}

LETHE_CLONES
void lethe_winograd_transform_output(
    const float *m, long stride, long height, long width, long out_channel_count, long channel_begin,
    long channel_end, long image_count, const float *bias, float *output) {
    const struct tiling g = tiling_of(height, width);
    const long tile_rows = g.rows, tile_columns = g.columns, tiles_per_image = g.per_image, plane = g.plane;
    const long position_stride = out_channel_count * stride;
    // The plane as the tiles write it: whole 2×2 blocks, line after line with the plane's width, a line's last
    // 16-lane store spilling into the next line (written after it) or past the plane; then copied out.
    float *written = zeroed(2 * tile_rows * width + 2 * tile_columns + 16);
    for (long image = 0; image < image_count; image++) {
        for (long o = channel_begin; o < channel_end; o++) {
            const float b = bias ? bias[o] : 0.0f;
            const f8 lanes_bias = {b, b, b, b, b, b, b, b};
            for (long ty = 0; ty < tile_rows; ty++) {
                const float *tiles = m + o * stride + image * tiles_per_image + ty * tile_columns;
                for (int r = 0; r < 2; r++) {  // the top line first: its last store spills into the bottom one
                    float *line = written + (2 * ty + r) * width;
                    for (long tx = 0; tx < tile_columns; tx += 8) {
                        f8 left, right;
                        output_row(r, tiles + tx, position_stride, &lanes_bias, &left, &right);
                        STORE(INTERLEAVING(left, right), line + 2 * tx);
                    }
                }
            }
            memcpy(output + (image * out_channel_count + o) * plane, written, sizeof(float) * (size_t)plane);
        }
    }
    free(written);
}

LETHE_CLONES
void lethe_winograd_transform_output_pooled(
    const float *m, long stride, long height, long width, long out_channel_count, long channel_begin,
    long channel_end, long image_count, const float *bias, float *pooled, int32_t *positions) {
    const struct tiling g = tiling_of(height, width);
    const long tile_columns = g.columns, tiles_per_image = g.per_image, position_stride = out_channel_count * stride;
    const long pooled_rows = height / 2, pooled_plane = pooled_rows * tile_columns;
    // One pooled plane and its maxima's positions as the tiles write them, a tile row's last 8-lane store spilling
    // into the next (written after it) or past the plane; copied out whole.
    float *written = zeroed(pooled_plane + 8);
    int32_t *written_at = zeroed_elements(pooled_plane + 8, sizeof(int32_t));
    for (long image = 0; image < image_count; image++) {
        for (long o = channel_begin; o < channel_end; o++) {
            const float b = bias ? bias[o] : 0.0f;
            const f8 lanes_bias = {b, b, b, b, b, b, b, b};
            for (long ty = 0; ty < pooled_rows; ty++) {
                const float *tiles = m + o * stride + image * tiles_per_image + ty * tile_columns;
                for (long tx = 0; tx < tile_columns; tx += 8) {
                    f8 top_left, top_right, bottom_left, bottom_right;
                    output_row(0, tiles + tx, position_stride, &lanes_bias, &top_left, &top_right);
                    output_row(1, tiles + tx, position_stride, &lanes_bias, &bottom_left, &bottom_right);
                    // Tile tx + l is the window whose top-left pixel is (2·ty, 2·(tx + l)).
                    const i8 top_left_at = PAIR_STARTS(2 * ty * width + 2 * tx);
                    f8 maxima;
                    i8 at_maxima;
                    pool_windows(
                        &top_left, &top_right, &bottom_left, &bottom_right, &top_left_at, width, &maxima, &at_maxima);
                    STORE(maxima, written + ty * tile_columns + tx);
                    STORE(at_maxima, written_at + ty * tile_columns + tx);
                }
            }
            const long plane = (image * out_channel_count + o) * pooled_plane;
            memcpy(pooled + plane, written, sizeof(float) * (size_t)pooled_plane);
            memcpy(positions + plane, written_at, sizeof(int32_t) * (size_t)pooled_plane);
        }
    }
    free(written);
    free(written_at);
}

LETHE_CLONES
void lethe_winograd_transform_output_gradient(
    const float *gradient, long height, long width, long image_count, long out_channel_count, long channel_begin,
    long channel_end, float *dm, long stride) {
    const struct tiling g = tiling_of(height, width);
    const long tile_rows = g.rows, tile_columns = g.columns, tiles_per_image = g.per_image, plane = g.plane;
    const long position_stride = out_channel_count * stride;
    // A copy of the plane followed by zeros, read line by line with the plane's width: a line's 16-lane loads run
    // into the next line only in lanes past the last tile, or past an odd width's last column (masked).
    float *copy = zeroed(plane + 2 * width + 2 * tile_columns + 16);
    const f8 zero = {0};
    for (long image = 0; image < image_count; image++) {
        for (long o = channel_begin; o < channel_end; o++) {
            memcpy(copy, gradient + (image * out_channel_count + o) * plane, sizeof(float) * (size_t)plane);
            for (long ty = 0; ty < tile_rows; ty++) {
                float *tiles = dm + o * stride + image * tiles_per_image + ty * tile_columns;
                for (long tx = 0; tx < tile_columns; tx += 8) {
                    const f16 top = LOAD16(copy + 2 * ty * width + 2 * tx);
                    const f16 bottom = LOAD16(copy + (2 * ty + 1) * width + 2 * tx);
                    // Tiles whose right column lies past the plane (an odd width's last tile).
                    const i8 outside = LANES_FROM(tx, width / 2);
                    const f8 a0 = EVEN_HALF(top), a1 = EVEN_HALF(bottom);
                    const f8 b0 = CHOOSE(outside, zero, ODD_HALF(top)), b1 = CHOOSE(outside, zero, ODD_HALF(bottom));
                    // A ∂Y's row i for the tiles' left (a) and right (b) columns, then its row of A ∂Y Aᵀ.
                    const f8 a[4] = {a0, a0 + a1, a0 - a1, -a1}, bb[4] = {b0, b0 + b1, b0 - b1, -b1};
                    for (int i = 0; i < 4; i++) {
                        float *out = tiles + 4 * i * position_stride + tx;
                        STORE(a[i], out);
                        STORE(a[i] + bb[i], out + position_stride);
                        STORE(a[i] - bb[i], out + 2 * position_stride);
                        STORE(-bb[i], out + 3 * position_stride);
                    }
                }
            }
        }
    }
    free(copy);
}

LETHE_CLONES
void lethe_winograd_input_gradient(
    const float *dv, long stride, long height, long width, long channel_count, long channel_begin, long channel_end,
    long image_count, float *gradient) {
    const struct tiling g = tiling_of(height, width);
    const long tile_rows = g.rows, tile_columns = g.columns, tiles_per_image = g.per_image, plane = g.plane;
    const long position_stride = channel_count * stride;
    // The padded plane's gradient, its even columns (line y: even[y·half + k] is padded column 2k) apart from its
    // odd ones, so that a tile row's four lines take each block of tiles with aligned 8-lane additions.
    const long half = tile_columns + 16, lines = 2 * tile_rows + 2;
    float *even = zeroed(2 * lines * half);
    float *odd = even + lines * half;
    const f8 zero = {0};
    for (long image = 0; image < image_count; image++) {
        for (long c = channel_begin; c < channel_end; c++) {
            memset(even, 0, sizeof(float) * (size_t)(2 * lines * half));
            for (long ty = 0; ty < tile_rows; ty++) {
                const float *tiles = dv + c * stride + image * tiles_per_image + ty * tile_columns;
                // What a block's last tile adds to the next block's first columns, per line.
                float even_carries[4] = {0}, odd_carries[4] = {0};
                for (long tx = 0; tx < tile_columns; tx += 8) {
                    // Lanes past the tile row would add their neighbours' values: they add zeros.
                    const i8 outside = LANES_FROM(tx, tile_columns);
                    f8 x[16];
                    for (int position = 0; position < 16; position++)
                        x[position] = CHOOSE(outside, zero, LOAD8(tiles + position * position_stride + tx));
                    // Column j of B ∂V: its four rows.
                    f8 z[4][4];
                    for (int j = 0; j < 4; j++) {
                        const f8 x0 = x[j], x1 = x[4 + j], x2 = x[8 + j], x3 = x[12 + j];
                        z[j][0] = x0;
                        z[j][1] = (x1 - x2) + x3;
                        z[j][2] = (-x0 + x1) + x2;
                        z[j][3] = -x3;
                    }
                    // Row r of B ∂V Bᵀ for tile k covers padded columns 2k…2k + 3 of line 2·ty + r: even column 2k
                    // takes p0[k] and the previous tile's p2, odd column 2k + 1 p1[k] and p3.
                    for (int r = 0; r < 4; r++) {
                        const f8 a = z[0][r], b = z[1][r], cc = z[2][r], d = z[3][r];
                        const f8 p0 = a, p1 = (b - cc) + d, p2 = (-a + b) + cc, p3 = -d;
                        float *e = even + (2 * ty + r) * half + tx, *o = odd + (2 * ty + r) * half + tx;
                        STORE(LOAD8(e) + (p0 + SHIFTED_UP(p2, even_carries[r])), e);
                        STORE(LOAD8(o) + (p1 + SHIFTED_UP(p3, odd_carries[r])), o);
                        even_carries[r] = p2[7];
                        odd_carries[r] = p3[7];
                    }
                }
                // The last block's carries land past it.
                const long end = (tile_columns + 7) / 8 * 8;
                for (int r = 0; r < 4; r++) {
                    even[(2 * ty + r) * half + end] += even_carries[r];
                    odd[(2 * ty + r) * half + end] += odd_carries[r];
                }
            }
            // Pixel (y, x) is padded line y + 1, column x + 1.
            float *target = gradient + (image * channel_count + c) * plane;
            for (long y = 0; y < height; y++) {
                const float *e = even + (y + 1) * half, *o = odd + (y + 1) * half;
                float *line = target + y * width;
                for (long x = 0; x < width; x++) line[x] = (x & 1) == 0 ? o[x >> 1] : e[(x + 1) >> 1];
            }
        }
    }
    free(even);
}
