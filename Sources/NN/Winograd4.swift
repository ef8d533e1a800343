import CKernels

/// Winograd's F(4×4, 3×3) for inference (no backward pass follows): each 4×4 block of output (a *tile*) comes from
/// the 6×6 window of padded input around it, windows 4 apart, so a chunk's convolution is 36 products
/// U[ξ]·V[ξ], [out, in]·[in, tiles], 4× fewer multiply-accumulates than im2col's product (F(2×2, 3×3),
/// `WinogradTiling`, which training keeps because its backward pass differentiates those formulas: 2.25×).
///
///     V = Bᵀ d B  (input window d, 6×6)     U = G g Gᵀ  (kernel g, 3×3)     Y = Aᵀ (U ⊙ V) A  (4×4 output)
///
///     Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
///     G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1]
///     Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
///
/// (Lavin & Gray, CVPR 2016). Its constants are not all powers of two, so its rounding differs from F(2×2, 3×3)'s
/// (inference's outputs are within a few ulps of training's forward pass, not the same bits), but every transform
/// is a fixed sequence of IEEE operations, the same on every CPU. Transformed matrices are laid out as
/// `WinogradTiling`'s, [ξ][channel][tile], rows 16-float aligned: the C transforms (`winograd4.c`) move sixteen
/// tiles a vector.
struct Winograd4Tiling {
    /// Height and width of the input planes, which are also the output's.
    let height: Int
    let width: Int

    static let positions = 36

    var tileRows: Int { (height + 3) / 4 }
    var tileColumns: Int { (width + 3) / 4 }
    var tilesPerImage: Int { tileRows * tileColumns }
    /// Floats from one channel's row of a transformed matrix to the next for `tiles` tiles: a multiple of 16, so
    /// that a 64-byte aligned matrix has every row aligned for the transforms' 16-lane loads and stores.
    static func rowStride(tiles: Int) -> Int { (tiles + 15) / 16 * 16 }

    /// U[ξ][o][c] = (G g Gᵀ)[ξ] for every kernel g = weight[o, c] ([out, in, 3, 3]).
    static func transformWeights(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int) -> [Float] {
        let block = outChannels * inChannels
        /// G x for three values x a `stride` apart (a kernel's column, or a line of G g), into six a `step` apart.
        func applyG(_ x: UnsafePointer<Float>, stride: Int, into y: UnsafeMutablePointer<Float>, step: Int) {
            let (x0, x1, x2) = (x[0], x[stride], x[2 * stride])
            y[0] = x0 / 4
            y[step] = -((x0 + x1) + x2) / 6
            y[2 * step] = -((x0 - x1) + x2) / 6
            y[3 * step] = ((x0 + 2 * x1) + 4 * x2) / 24
            y[4 * step] = ((x0 - 2 * x1) + 4 * x2) / 24
            y[5 * step] = x2
        }
        return [Float](unsafeUninitializedCapacity: positions * block) { u, initialized in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 18) { gg in
                for kernel in 0..<block {
                    let g = weight + kernel * 9
                    // G g ([6][3]), then each of its lines times Gᵀ.
                    for k in 0..<3 { applyG(g + k, stride: 3, into: gg.baseAddress! + k, step: 3) }
                    for i in 0..<6 {
                        applyG(
                            gg.baseAddress! + 3 * i, stride: 1, into: u.baseAddress! + 6 * i * block + kernel,
                            step: block)
                    }
                }
            }
            initialized = positions * block
        }
    }

    /// V[ξ][c][tile] = (Bᵀ d B)[ξ] for every 6×6 window d of `imageCount` images' planes ([images, channelCount,
    /// H, W] from `input`; zero outside), for the channels in `channels`.
    func transformInput(
        _ input: UnsafePointer<Float>, imageCount: Int, channelCount: Int, channels: Range<Int>,
        into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        lethe_winograd4_transform_input(
            input, height, width, imageCount, channelCount, channels.lowerBound, channels.upperBound, v, stride)
    }

    /// The output planes of `imageCount` images ([images, outChannelCount, H, W] into `output`) from M[ξ][o][tile]
    /// = (U[ξ]·V[ξ])[o, tile]: Y = Aᵀ M A + bias for every tile, for the channels in `channels`; with `pooled`,
    /// 2×2 max-pooled (each line's neighbours, then the two lines' winners, as `MaxPool2d` pairs them) and
    /// rectified into [images, outChannelCount, H/2, W/2] (the width must be even).
    func transformOutput(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: UnsafePointer<Float>?, pooled: Bool, into output: UnsafeMutablePointer<Float>
    ) {
        guard pooled else {
            return lethe_winograd4_transform_output(
                m, stride, height, width, outChannelCount, channels.lowerBound, channels.upperBound, imageCount, bias,
                output)
        }
        precondition(width % 2 == 0, "pooling in the output transform needs an even width")
        lethe_winograd4_transform_output_pooled_rectified(
            m, stride, height, width, outChannelCount, channels.lowerBound, channels.upperBound, imageCount, bias,
            output)
    }
}
