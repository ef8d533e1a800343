// Winograd F(4×4, 3×3) transforms for inference, in C so that they are compiled for the vectors of the CPU they run
// on. The formulas and layouts are Winograd4Tiling's (NN). A plane's tiles are taken sixteen at a time, a block of
// 4 × 4 (tile rows ty0…ty0 + 3, tile columns tx0…tx0 + 3), one tile a lane: lane 4q + p is tile (ty0 + q,
// tx0 + p); lanes past the plane's tiles compute values nobody reads. Every element is the same IEEE operations in
// the same order whichever clone runs, and nothing is contracted into fused multiply-adds: the same bits on every
// CPU.
#include "winograd4.h"
#include "lanes.h"

typedef int32_t i16 __attribute__((vector_size(64)));
#define SPLAT16(x) ((f16){0} + (x))
#define CHOOSE16(mask, when, otherwise) ((f16)(((mask) & (i16)(when)) | (~(mask) & (i16)(otherwise))))
#define LOWER_HALF(v) __builtin_shufflevector((v), (v), 0, 1, 2, 3, 4, 5, 6, 7)
#define UPPER_HALF(v) __builtin_shufflevector((v), (v), 8, 9, 10, 11, 12, 13, 14, 15)

/// A plane's tiles: rows and columns of 4×4 output blocks (the last ones partly outside an edge).
struct tiling4 {
    long rows, columns, per_image;
};

static struct tiling4 tiling4_of(long height, long width) {
    const long rows = (height + 3) / 4, columns = (width + 3) / 4;
    return (struct tiling4){rows, columns, rows * columns};
}

/// t = Bᵀ x for six vectors x, Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0;
/// 0 4 0 −5 0 1].
#define INPUT_ROWS(t, x) \
    do { \
        const f16 four_ = SPLAT16(4.0f), five_ = SPLAT16(5.0f), two_ = SPLAT16(2.0f); \
        (t)[0] = ((x)[0] * four_ - (x)[2] * five_) + (x)[4]; \
        (t)[1] = ((x)[3] + (x)[4]) - ((x)[1] + (x)[2]) * four_; \
        (t)[2] = ((x)[4] - (x)[3]) + ((x)[1] - (x)[2]) * four_; \
        (t)[3] = ((x)[4] - (x)[2]) + ((x)[3] - (x)[1]) * two_; \
        (t)[4] = ((x)[4] - (x)[2]) - ((x)[3] - (x)[1]) * two_; \
        (t)[5] = ((x)[1] * four_ - (x)[3] * five_) + (x)[5]; \
    } while (0)

/// y = Aᵀ m for six vectors m, Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
#define OUTPUT_ROWS(y, m) \
    do { \
        const f16 u_ = (m)[1] + (m)[2], w_ = (m)[1] - (m)[2], x_ = (m)[3] + (m)[4], z_ = (m)[3] - (m)[4]; \
        (y)[0] = ((m)[0] + u_) + x_; \
        (y)[1] = w_ + z_ * SPLAT16(2.0f); \
        (y)[2] = u_ + x_ * SPLAT16(4.0f); \
        (y)[3] = (w_ + z_ * SPLAT16(8.0f)) + (m)[5]; \
    } while (0)

/// Lane 4q + p = rows[q][4p + s], for a constant s in 0…3: column s of each tile's window on four tile rows.
#define PHASE(rows, s) \
    __builtin_shufflevector( \
        __builtin_shufflevector( \
            (rows)[0], (rows)[1], s, s + 4, s + 8, s + 12, s + 16, s + 20, s + 24, s + 28, 0, 0, 0, 0, 0, 0, 0, 0), \
        __builtin_shufflevector( \
            (rows)[2], (rows)[3], s, s + 4, s + 8, s + 12, s + 16, s + 20, s + 24, s + 28, 0, 0, 0, 0, 0, 0, 0, 0), \
        0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)

/// A block's place in a plane of tiles: its first tile row and column and how many of its rows and columns are in
/// the plane.
struct block {
    long ty0, tx0, rows, columns;
};

static inline struct block block_at(struct tiling4 g, long ty0, long tx0) {
    const long rows = g.rows - ty0 < 4 ? g.rows - ty0 : 4, columns = g.columns - tx0 < 4 ? g.columns - tx0 : 4;
    return (struct block){ty0, tx0, rows, columns};
}

/// Whether the block's sixteen tiles are contiguous in a transformed matrix's row (a plane's tile rows are four tiles
/// long and the block has all four): then sixteen lanes load and store them whole.
static inline int contiguous(struct tiling4 g, struct block b) { return g.columns == 4 && b.rows == 4; }

/// Writes the lanes of `value` that are tiles of the plane to their places in a transformed matrix's row whose
/// tiles of this plane start at `tiles`.
__attribute__((always_inline)) static inline void store_tiles(
    const f16 *value, float *tiles, struct tiling4 g, struct block b) {
    if (contiguous(g, b)) {
        STORE(*value, tiles + 4 * b.ty0);
        return;
    }
    float lanes[16];
    STORE(*value, lanes);
    for (long q = 0; q < b.rows; q++)
        for (long p = 0; p < b.columns; p++) tiles[(b.ty0 + q) * g.columns + b.tx0 + p] = lanes[4 * q + p];
}

/// The block's tiles from a transformed matrix's row whose tiles of this plane start at `tiles` into `value`
/// (lanes past the plane's tiles are zero).
__attribute__((always_inline)) static inline void load_tiles(
    const float *tiles, struct tiling4 g, struct block b, f16 *value) {
    if (contiguous(g, b)) {
        *value = LOAD16(tiles + 4 * b.ty0);
        return;
    }
    float lanes[16] = {0};
    for (long q = 0; q < b.rows; q++)
        for (long p = 0; p < b.columns; p++) lanes[4 * q + p] = tiles[(b.ty0 + q) * g.columns + b.tx0 + p];
    *value = LOAD16(lanes);
}

/// `count` zeroed floats (the process stops if memory runs out, as Swift's allocations do).
static float *zeroed_floats(long count) {
    float *memory = calloc((size_t)count, sizeof(float));
    if (!memory) abort();
    return memory;
}

/// A plane's lines into the interior of `padded` (whose border stays zero). Lines of at most 16 pixels are built in
/// registers and stored whole at the 16-lane boundaries the vertical pass loads from (a load that straddled a
/// narrower store would wait for it to reach the cache): each line loaded with the pixels after it (the next
/// lines', or the next planes': a line whose sixteen floats would run past the input's `end` goes through a zeroed
/// copy), moved one lane right and masked.
__attribute__((always_inline)) static inline void copy_padded(
    const float *source, long height, long width, const float *end, long line, float *padded) {
    if (width > 16) {
        for (long y = 0; y < height; y++)
            memcpy(padded + (y + 1) * line + 1, source + y * width, sizeof(float) * (size_t)width);
        return;
    }
    const i16 lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const f16 zero = {0};
    const i16 inside = (lane >= 1) & (lane <= (int32_t)width), spills = (lane == 0) & (width == 16 ? -1 : 0);
    for (long y = 0; y < height; y++) {
        f16 pixels;
        if (source + y * width + 16 <= end) {
            pixels = LOAD16(source + y * width);
        } else {
            float last[16] = {0};
            for (long x = 0; x < width; x++) last[x] = source[y * width + x];
            pixels = LOAD16(last);
        }
        const f16 low = __builtin_shufflevector(
            zero, pixels, 0, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
        const f16 high = __builtin_shufflevector(pixels, zero, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16);
        STORE(CHOOSE16(inside, low, zero), padded + (y + 1) * line);
        STORE(CHOOSE16(spills, high, zero), padded + (y + 1) * line + 16);
    }
}

LETHE_CLONES
void lethe_winograd4_transform_input(
    const float *input, long height, long width, long image_count, long channel_count, long channel_begin,
    long channel_end, float *v, long stride, long position_stride) {
    const struct tiling4 g = tiling4_of(height, width);
    const float *end = input + image_count * channel_count * height * width;
    // The plane zero-padded (pixel (y, x) at line y + 1, column x + 1; 4·rows + 2 lines), then Bᵀ d for every tile
    // row (line 6·ty + i), lines `line` long: room for a block's 16-lane loads from any of its tile columns.
    const long line = 16 * ((g.columns + 3) / 4) + 16, padded_lines = 4 * g.rows + 2;
    float *padded = zeroed_floats(padded_lines * line);
    float *vertical = zeroed_floats(6 * g.rows * line);
    for (long image = 0; image < image_count; image++) {
        for (long c = channel_begin; c < channel_end; c++) {
            const float *source = input + (image * channel_count + c) * height * width;
            copy_padded(source, height, width, end, line, padded);
            for (long ty = 0; ty < g.rows; ty++)
                for (long x = 0; x < line; x += 16) {
                    f16 d[6], t[6];
                    for (int r = 0; r < 6; r++) d[r] = LOAD16(padded + (4 * ty + r) * line + x);
                    INPUT_ROWS(t, d);
                    for (int i = 0; i < 6; i++) STORE(t[i], vertical + (6 * ty + i) * line + x);
                }
            float *tiles = v + c * stride + image * g.per_image;
            for (long ty0 = 0; ty0 < g.rows; ty0 += 4)
                for (long tx0 = 0; tx0 < g.columns; tx0 += 4) {
                    const struct block b = block_at(g, ty0, tx0);
                    for (int i = 0; i < 6; i++) {
                        // Each lane's tile row's line i from the tile's window on (columns 0…3, then 4 and 5);
                        // a block's rows past the plane read the last tile row again.
                        f16 near[4], far[4];
                        for (int q = 0; q < 4; q++) {
                            const long ty = ty0 + (q < b.rows ? q : b.rows - 1);
                            const float *row = vertical + (6 * ty + i) * line + 4 * tx0;
                            near[q] = LOAD16(row);
                            // Columns 4…19 from the two aligned vectors the vertical pass stored.
                            const f16 next = LOAD16(row + 16);
                            far[q] = __builtin_shufflevector(
                                near[q], next, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
                        }
                        const f16 x[6] = {PHASE(near, 0), PHASE(near, 1), PHASE(near, 2),
                                          PHASE(near, 3), PHASE(far, 0),  PHASE(far, 1)};
                        f16 t[6];
                        INPUT_ROWS(t, x);
                        for (int j = 0; j < 6; j++) store_tiles(&t[j], tiles + (6 * i + j) * position_stride, g, b);
                    }
                }
        }
    }
    free(padded);
    free(vertical);
}

/// Y = Aᵀ M A + bias of a block's tiles of one plane (lane 4q + p: tile (ty0 + q, tx0 + p)), M[ξ] from `tiles`
/// with `position_stride` floats from one position to the next.
__attribute__((always_inline)) static inline void output_block(
    const float *tiles, long position_stride, struct tiling4 g, struct block b, float bias, f16 y[4][4]) {
    f16 m[36];
    if (contiguous(g, b)) {  // spelled out and unrolled: the 36 loads stay in registers (15% of the transform)
#pragma clang loop unroll(full)
        for (int position = 0; position < 36; position++)
            m[position] = LOAD16(tiles + position * position_stride + 4 * b.ty0);
    } else {
        for (int position = 0; position < 36; position++)
            load_tiles(tiles + position * position_stride, g, b, &m[position]);
    }
    f16 along[4][6];  // Aᵀ M: the output's lines a from the window's lines, column j
#pragma clang loop unroll(full)
    for (int j = 0; j < 6; j++) {
        const f16 column[6] = {m[j], m[6 + j], m[12 + j], m[18 + j], m[24 + j], m[30 + j]};
        f16 lines[4];
        OUTPUT_ROWS(lines, column);
        for (int a = 0; a < 4; a++) along[a][j] = lines[a];
    }
    for (int a = 0; a < 4; a++) {
        f16 pixels[4];
        OUTPUT_ROWS(pixels, along[a]);
        for (int k = 0; k < 4; k++) y[a][k] = pixels[k] + SPLAT16(bias);
    }
}

LETHE_CLONES
void lethe_winograd4_transform_output(
    const float *m, long stride, long position_stride, long height, long width, long out_channel_count,
    long channel_begin, long channel_end, long image_count, const float *bias, float *output) {
    const struct tiling4 g = tiling4_of(height, width);
    for (long image = 0; image < image_count; image++) {
        for (long o = channel_begin; o < channel_end; o++) {
            float *plane = output + (image * out_channel_count + o) * height * width;
            for (long ty0 = 0; ty0 < g.rows; ty0 += 4)
                for (long tx0 = 0; tx0 < g.columns; tx0 += 4) {
                    const struct block b = block_at(g, ty0, tx0);
                    f16 y[4][4];
                    output_block(
                        m + o * stride + image * g.per_image, position_stride, g, b, bias ? bias[o] : 0.0f, y);
                    float pixels[4][4][16];
                    for (int a = 0; a < 4; a++)
                        for (int k = 0; k < 4; k++) STORE(y[a][k], pixels[a][k]);
                    for (long q = 0; q < b.rows; q++)
                        for (long a = 0; a < 4 && 4 * (ty0 + q) + a < height; a++)
                            for (long p = 0; p < b.columns; p++)
                                for (long k = 0; k < 4 && 4 * (tx0 + p) + k < width; k++)
                                    plane[(4 * (ty0 + q) + a) * width + 4 * (tx0 + p) + k] = pixels[a][k][4 * q + p];
                }
        }
    }
}

/// Lines 2q + e and 4 + 2q + e of a block's pooled lines (`lines`, values or indices) from windows e of its tiles,
/// (window f = 0, window f = 1) in `a` and `b`: interleaved, tile row q = 0's lanes then q = 1's.
#define STORE_WINDOW_LINES(a, b, lines, e) \
    do { \
        const __typeof__(a) low_ = \
            __builtin_shufflevector((a), (b), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); \
        const __typeof__(a) high_ = \
            __builtin_shufflevector((a), (b), 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); \
        for (int q_ = 0; q_ < 2; q_++) { \
            STORE(q_ ? UPPER_HALF(low_) : LOWER_HALF(low_), (lines)[2 * q_ + (e)]); \
            STORE(q_ ? UPPER_HALF(high_) : LOWER_HALF(high_), (lines)[4 + 2 * q_ + (e)]); \
        } \
    } while (0)

/// Writes a block's pooled line (`count` values from `line`) to `target`: eight floats at once when the line is
/// eight long, or when the floats past it are the start of the plane's next line, which this block writes next (it
/// starts the plane's lines); else one by one.
#define STORE_POOLED_LINE(target, line, count, whole) \
    do { \
        if (whole) \
            memcpy((target), (line), 8 * sizeof *(line)); \
        else \
            for (long k_ = 0; k_ < (count); k_++) (target)[k_] = (line)[k_]; \
    } while (0)

/// One plane's tiles pooled (see `lethe_winograd4_transform_output_pooled`); `with_positions` is a constant at
/// each call, so that inference's copy computes no indices.
__attribute__((always_inline)) static inline void output_pooled_plane(
    const float *tiles, long position_stride, struct tiling4 g, long height, long width, float bias, int rectify,
    float *pooled, int32_t *positions, const int with_positions) {
    const long pooled_height = height / 2, pooled_width = width / 2;
    const f16 zero = {0};
    // Lane 4q + p's tile's top-left pixel in a block whose first tile is the plane's first.
    const i16 tile_at = (i16){0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12} +
                        (i16){0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12} * (int32_t)width;
    for (long ty0 = 0; ty0 < g.rows; ty0 += 4)
        for (long tx0 = 0; tx0 < g.columns; tx0 += 4) {
            const struct block b = block_at(g, ty0, tx0);
            f16 y[4][4];
            output_block(tiles, position_stride, g, b, bias, y);
            // A tile's four 2×2 windows (rows 2e, 2e + 1 and columns 2f, 2f + 1 of its block), scanned as MaxPool2d
            // scans: each line's pair, then the two lines' winners; then the ReLU, or the maxima's indices in the
            // plane.
            f16 maxima[2][2];
            i16 at[2][2];
            for (int e = 0; e < 2; e++)
                for (int f = 0; f < 2; f++) {
                    const f16 up_left = y[2 * e][2 * f], up_right = y[2 * e][2 * f + 1];
                    const f16 down_left = y[2 * e + 1][2 * f], down_right = y[2 * e + 1][2 * f + 1];
                    const i16 up_takes = TAKES(up_right, up_left), down_takes = TAKES(down_right, down_left);
                    const f16 top = CHOOSE16(up_takes, up_right, up_left);
                    const f16 bottom = CHOOSE16(down_takes, down_right, down_left);
                    const i16 lower_takes = TAKES(bottom, top);
                    const f16 maximum = CHOOSE16(lower_takes, bottom, top);
                    maxima[e][f] = rectify ? CHOOSE16(maximum < zero, zero, maximum) : maximum;
                    if (!with_positions) continue;
                    const i16 top_left_at = tile_at + (int32_t)((4 * ty0 + 2 * e) * width + 4 * tx0 + 2 * f);
                    const i16 bottom_left_at = top_left_at + (int32_t)width;
                    const i16 top_at = CHOOSE_INDEX(up_takes, top_left_at + 1, top_left_at);
                    const i16 bottom_at = CHOOSE_INDEX(down_takes, bottom_left_at + 1, bottom_left_at);
                    at[e][f] = CHOOSE_INDEX(lower_takes, bottom_at, top_at);
                }
            // The block's 8 × 8 pooled values, line by line: line 2q + e holds tile row q's windows e, (p, f) at
            // column 2p + f.
            float lines[8][8];
            int32_t lines_at[8][8];
            for (int e = 0; e < 2; e++) {
                STORE_WINDOW_LINES(maxima[e][0], maxima[e][1], lines, e);
                if (with_positions) STORE_WINDOW_LINES(at[e][0], at[e][1], lines_at, e);
            }
            const long line_count = pooled_height - 2 * ty0 < 8 ? pooled_height - 2 * ty0 : 8;
            const long count = pooled_width - 2 * tx0 < 8 ? pooled_width - 2 * tx0 : 8;
            for (long l = 0; l < line_count; l++) {
                const long target = (2 * ty0 + l) * pooled_width + 2 * tx0;
                const int whole = count == 8 || (tx0 == 0 && l + 1 < line_count);
                STORE_POOLED_LINE(pooled + target, lines[l], count, whole);
                if (with_positions) STORE_POOLED_LINE(positions + target, lines_at[l], count, whole);
            }
        }
}

LETHE_CLONES
void lethe_winograd4_transform_output_pooled(
    const float *m, long stride, long position_stride, long height, long width, long out_channel_count,
    long channel_begin, long channel_end, long image_count, const float *bias, int rectify, float *pooled,
    int32_t *positions) {
    const struct tiling4 g = tiling4_of(height, width);
    const long pooled_plane = (height / 2) * (width / 2);
    for (long image = 0; image < image_count; image++) {
        for (long o = channel_begin; o < channel_end; o++) {
            const long plane = (image * out_channel_count + o) * pooled_plane;
            const float *tiles = m + o * stride + image * g.per_image;
            const float bias_o = bias ? bias[o] : 0.0f;
            if (positions)
                output_pooled_plane(
                    tiles, position_stride, g, height, width, bias_o, rectify, pooled + plane, positions + plane, 1);
            else
                output_pooled_plane(tiles, position_stride, g, height, width, bias_o, rectify, pooled + plane, NULL, 0);
        }
    }
}

/// x = A y for four vectors y (A = Aᵀ's transpose, 6 × 4): the output gradient transform's six rows.
#define GRADIENT_ROWS(x, y) \
    do { \
        const f16 even_ = (y)[0] + (y)[2], odd_ = (y)[1] + (y)[3]; \
        const f16 even4_ = (y)[0] + (y)[2] * SPLAT16(4.0f), odd4_ = (y)[1] * SPLAT16(2.0f) + (y)[3] * SPLAT16(8.0f); \
        (x)[0] = (y)[0]; \
        (x)[1] = even_ + odd_; \
        (x)[2] = even_ - odd_; \
        (x)[3] = even4_ + odd4_; \
        (x)[4] = even4_ - odd4_; \
        (x)[5] = (y)[3]; \
    } while (0)

/// Sixteen pixels of a line from `pixels` into `value`, lanes from `available` on zero: loaded whole when
/// `readable` (the sixteen floats are inside the buffer), else through a zeroed copy.
__attribute__((always_inline)) static inline void load_line(
    const float *pixels, long available, int readable, f16 *value) {
    const i16 lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const f16 zero = {0};
    if (readable) {
        *value = CHOOSE16(lane < (int32_t)available, LOAD16(pixels), zero);
        return;
    }
    float copy[16] = {0};
    for (long x = 0; x < available; x++) copy[x] = pixels[x];
    *value = LOAD16(copy);
}

LETHE_CLONES
void lethe_winograd4_transform_output_gradient(
    const float *gradient, long height, long width, long image_count, long out_channel_count, long channel_begin,
    long channel_end, float *dm, long stride, long position_stride) {
    const struct tiling4 g = tiling4_of(height, width);
    const long plane = height * width;
    const float *end = gradient + image_count * out_channel_count * plane;
    const f16 zero = {0};
    for (long image = 0; image < image_count; image++) {
        for (long o = channel_begin; o < channel_end; o++) {
            const float *source = gradient + (image * out_channel_count + o) * plane;
            float *tiles = dm + o * stride + image * g.per_image;
            for (long ty0 = 0; ty0 < g.rows; ty0 += 4)
                for (long tx0 = 0; tx0 < g.columns; tx0 += 4) {
                    const struct block b = block_at(g, ty0, tx0);
                    const long available = width - 4 * tx0 < 16 ? width - 4 * tx0 : 16;
                    // ∂Y[a][k]: pixel (a, k) of every tile (zero past the plane).
                    f16 dy[4][4];
#pragma clang loop unroll(full)
                    for (int a = 0; a < 4; a++) {
                        f16 lines[4];
#pragma clang loop unroll(full)
                        for (int q = 0; q < 4; q++) {
                            const long y = 4 * (ty0 + q) + a;
                            const float *pixels = source + y * width + 4 * tx0;
                            if (y >= height) {
                                lines[q] = zero;
                                continue;
                            }
                            load_line(pixels, available, pixels + 16 <= end, &lines[q]);
                        }
                        dy[a][0] = PHASE(lines, 0);
                        dy[a][1] = PHASE(lines, 1);
                        dy[a][2] = PHASE(lines, 2);
                        dy[a][3] = PHASE(lines, 3);
                    }
                    // A ∂Y: six lines of four columns, then each line times Aᵀ.
                    f16 down[6][4];
#pragma clang loop unroll(full)
                    for (int k = 0; k < 4; k++) {
                        const f16 column[4] = {dy[0][k], dy[1][k], dy[2][k], dy[3][k]};
                        f16 rows[6];
                        GRADIENT_ROWS(rows, column);
                        for (int i = 0; i < 6; i++) down[i][k] = rows[i];
                    }
#pragma clang loop unroll(full)
                    for (int i = 0; i < 6; i++) {
                        f16 across[6];
                        GRADIENT_ROWS(across, down[i]);
                        for (int j = 0; j < 6; j++)
                            store_tiles(&across[j], tiles + (6 * i + j) * position_stride, g, b);
                    }
                }
        }
    }
}

/// x = B t for six vectors t (B = Bᵀ's transpose): the input gradient transform's six rows.
#define INPUT_GRADIENT_ROWS(x, t) \
    do { \
        const f16 four_ = SPLAT16(4.0f), five_ = SPLAT16(5.0f), two_ = SPLAT16(2.0f); \
        (x)[0] = (t)[0] * four_; \
        (x)[1] = (((t)[2] - (t)[1]) + (t)[5]) * four_ + ((t)[4] - (t)[3]) * two_; \
        (x)[2] = -((t)[0] * five_ + ((t)[1] + (t)[2]) * four_ + ((t)[3] + (t)[4])); \
        (x)[3] = (((t)[1] - (t)[2]) + ((t)[3] - (t)[4]) * two_) - (t)[5] * five_; \
        (x)[4] = (((t)[0] + (t)[1]) + ((t)[2] + (t)[3])) + (t)[4]; \
        (x)[5] = (t)[5]; \
    } while (0)

LETHE_CLONES
void lethe_winograd4_input_gradient(
    const float *dv, long stride, long position_stride, long height, long width, long channel_count,
    long channel_begin, long channel_end, long image_count, float *gradient) {
    const struct tiling4 g = tiling4_of(height, width);
    const long line = 4 * g.columns + 2;
    // The padded plane's gradient: each tile's 6×6 window added where it lies, tile after tile in order (windows
    // overlap by two lines and two columns), then the interior copied out.
    float *padded = zeroed_floats((4 * g.rows + 2) * line);
    for (long image = 0; image < image_count; image++) {
        for (long c = channel_begin; c < channel_end; c++) {
            memset(padded, 0, sizeof(float) * (size_t)((4 * g.rows + 2) * line));
            const float *tiles = dv + c * stride + image * g.per_image;
            for (long ty0 = 0; ty0 < g.rows; ty0 += 4)
                for (long tx0 = 0; tx0 < g.columns; tx0 += 4) {
                    const struct block b = block_at(g, ty0, tx0);
                    // B ∂V Bᵀ: each line of ∂V times Bᵀ, then B times each column.
                    f16 across[6][6];
#pragma clang loop unroll(full)
                    for (int i = 0; i < 6; i++) {
                        f16 t[6], x[6];
                        for (int j = 0; j < 6; j++) load_tiles(tiles + (6 * i + j) * position_stride, g, b, &t[j]);
                        INPUT_GRADIENT_ROWS(x, t);
                        for (int s = 0; s < 6; s++) across[i][s] = x[s];
                    }
                    float window[6][6][16];
                    for (int s = 0; s < 6; s++) {
                        const f16 column[6] = {across[0][s], across[1][s], across[2][s],
                                               across[3][s], across[4][s], across[5][s]};
                        f16 x[6];
                        INPUT_GRADIENT_ROWS(x, column);
                        for (int r = 0; r < 6; r++) STORE(x[r], window[r][s]);
                    }
                    for (long q = 0; q < b.rows; q++)
                        for (long p = 0; p < b.columns; p++)
                            for (int r = 0; r < 6; r++)
                                for (int s = 0; s < 6; s++)
                                    padded[(4 * (ty0 + q) + r) * line + 4 * (tx0 + p) + s] += window[r][s][4 * q + p];
                }
            float *target = gradient + (image * channel_count + c) * height * width;
            for (long y = 0; y < height; y++)
                memcpy(target + y * width, padded + (y + 1) * line + 1, sizeof(float) * (size_t)width);
        }
    }
    free(padded);
}

/// G x for three vectors x: y₀ = x₀/4, y₁ = −((x₀ + x₁) + x₂)/6, y₂ = −((x₀ − x₁) + x₂)/6,
/// y₃ = ((x₀ + 2x₁) + 4x₂)/24, y₄ = ((x₀ − 2x₁) + 4x₂)/24, y₅ = x₂.
#define WEIGHT_ROWS(y, x) \
    do { \
        const f8 two_ = (f8){0} + 2.0f, four_ = (f8){0} + 4.0f, six_ = (f8){0} + 6.0f; \
        const f8 twenty_four_ = (f8){0} + 24.0f; \
        (y)[0] = (x)[0] / four_; \
        (y)[1] = -(((x)[0] + (x)[1]) + (x)[2]) / six_; \
        (y)[2] = -(((x)[0] - (x)[1]) + (x)[2]) / six_; \
        (y)[3] = (((x)[0] + two_ * (x)[1]) + four_ * (x)[2]) / twenty_four_; \
        (y)[4] = (((x)[0] - two_ * (x)[1]) + four_ * (x)[2]) / twenty_four_; \
        (y)[5] = (x)[2]; \
    } while (0)

/// The first of the kernels a vector takes at `start` of [begin, end), and in `*count` how many: eight from
/// `start`, or where fewer than eight are left the eight that end at `end` (computing some kernels again, with the
/// same values), or every one when the range has fewer than eight. The loop is done once these reach `end`.
static inline long eight_kernels(long start, long begin, long end, int *count) {
    const long first = start + 8 <= end || end - 8 < begin ? start : end - 8;
    *count = end - first < 8 ? (int)(end - first) : 8;
    return first;
}

LETHE_CLONES
void lethe_winograd4_transform_weights(const float *weight, long kernels, long begin, long end, float *u) {
    for (long start = begin; start < end; start += 8) {
        int count;
        const long first = eight_kernels(start, begin, end, &count);
        f8 g[9] = {{0}};  // element i of the kernels
        for (int i = 0; i < 9; i++)
            for (int lane = 0; lane < count; lane++) g[i][lane] = weight[(first + lane) * 9 + i];
        f8 gg[6][3];  // G g
        for (int c = 0; c < 3; c++) {
            const f8 column[3] = {g[c], g[3 + c], g[6 + c]};
            f8 y[6];
            WEIGHT_ROWS(y, column);
            for (int i = 0; i < 6; i++) gg[i][c] = y[i];
        }
        for (int i = 0; i < 6; i++) {
            f8 y[6];
            WEIGHT_ROWS(y, gg[i]);
            for (int j = 0; j < 6; j++) {
                float *target = u + (6 * i + j) * kernels + first;
                if (count == 8) {
                    STORE(y[j], target);
                } else {
                    for (int lane = 0; lane < count; lane++) target[lane] = y[j][lane];
                }
            }
        }
        if (first + 8 >= end) break;
    }
}

/// Gᵀ x for six vectors x: y₀ = (x₀/4 − (x₁ + x₂)/6) + (x₃ + x₄)/24, y₁ = (x₂ − x₁)/6 + (x₃ − x₄)/12,
/// y₂ = ((x₃ + x₄)/6 − (x₁ + x₂)/6) + x₅.
#define WEIGHT_GRADIENT_ROWS(y, x) \
    do { \
        const f8 four_ = (f8){0} + 4.0f, six_ = (f8){0} + 6.0f, twelve_ = (f8){0} + 12.0f; \
        const f8 twenty_four_ = (f8){0} + 24.0f; \
        const f8 sum_ = (x)[1] + (x)[2], difference_ = (x)[2] - (x)[1]; \
        const f8 sum34_ = (x)[3] + (x)[4], difference34_ = (x)[3] - (x)[4]; \
        (y)[0] = ((x)[0] / four_ - sum_ / six_) + sum34_ / twenty_four_; \
        (y)[1] = difference_ / six_ + difference34_ / twelve_; \
        (y)[2] = (sum34_ / six_ - sum_ / six_) + (x)[5]; \
    } while (0)

LETHE_CLONES
void lethe_winograd4_weight_gradient(const float *du, long kernels, float *gradient) {
    for (long start = 0; start < kernels; start += 8) {
        int count;
        const long first = eight_kernels(start, 0, kernels, &count);
        f8 rows[3][6];  // Gᵀ ∂U
        for (int j = 0; j < 6; j++) {
            f8 column[6] = {{0}};
            for (int i = 0; i < 6; i++) {
                const float *lanes = du + (6 * i + j) * kernels + first;
                if (count == 8) {
                    column[i] = LOAD8(lanes);
                } else {
                    for (int lane = 0; lane < count; lane++) column[i][lane] = lanes[lane];
                }
            }
            f8 y[3];
            WEIGHT_GRADIENT_ROWS(y, column);
            for (int a = 0; a < 3; a++) rows[a][j] = y[a];
        }
        float out[9][8];  // [3 a + b][kernel]
        for (int a = 0; a < 3; a++) {
            f8 y[3];
            WEIGHT_GRADIENT_ROWS(y, rows[a]);
            for (int b = 0; b < 3; b++) STORE(y[b], out[3 * a + b]);
        }
        for (int lane = 0; lane < count; lane++)
            for (int i = 0; i < 9; i++) gradient[(first + lane) * 9 + i] = out[i][lane];
        if (first + 8 >= kernels) break;
    }
}
