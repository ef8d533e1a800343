import CKernels

/// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
/// CVPR 2016) for 3×3 convolutions with stride 1 and padding 1. Each 2×2 block of output (a *tile*) comes from
/// the 4×4 window of padded input around it: with the transforms below, a chunk's convolution is 16 products
/// U[ξ]·V[ξ], one per position ξ of the 4×4 transformed window, each [out, in]·[in, tiles], 2.25× fewer
/// multiply-accumulates than im2col's one [out, 9·in]·[9·in, pixels].
///
///     V = Bᵀ d B  (input window d, 4×4)     U = G g Gᵀ  (kernel g, 3×3)     Y = Aᵀ (U ⊙ V) A  (2×2 output)
///
/// The transforms only add, subtract and halve, in a fixed order, so their bits are the same on every CPU. The
/// backward pass differentiates these formulas exactly: ∂M = A ∂Y Aᵀ, ∂U[ξ] = ∂M[ξ]·V[ξ]ᵀ, ∂V[ξ] = U[ξ]ᵀ·∂M[ξ],
/// ∂d = B ∂V Bᵀ (windows overlapping by two pixels add up), ∂g = Gᵀ ∂U G.
///
/// Transformed matrices are laid out [ξ][channel][tile], with `stride` (`rowStride`) floats from one channel's row
/// to the next and tiles numbered image by image, then row by row within an image. The input, output and gradient
/// transforms are C (`CKernels`), compiled for the widest vectors of the CPU with the same operations in the same
/// order on every one.
struct WinogradTiling {
    /// Height and width of the input planes, which are also the output's.
    let height: Int
    let width: Int

    static let positions = 16

    var tileRows: Int { (height + 1) / 2 }
    var tileColumns: Int { (width + 1) / 2 }
    var tilesPerImage: Int { tileRows * tileColumns }
    /// Floats from one channel's row of a transformed matrix to the next for `tiles` tiles: eight more, which
    /// the last tiles' eight-lane stores may spill into.
    static func rowStride(tiles: Int) -> Int { tiles + 8 }

    /// U[ξ][o][c] = (G g Gᵀ)[ξ] for every kernel g = weight[o, c] ([out, in, 3, 3]), G = [1 0 0; ½ ½ ½; ½ −½ ½;
    /// 0 0 1].
    static func transformWeights(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int) -> [Float] {
        let block = outChannels * inChannels
        return [Float](unsafeUninitializedCapacity: positions * block) { u, initialized in
            for kernel in 0..<block {
                let g = weight + kernel * 9
                for i in 0..<4 {
                    // Row i of G g.
                    let (a, b, c) =
                        switch i {
                        case 0: (g[0], g[1], g[2])
                        case 1: (0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8]))
                        case 2: (0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8]))
                        default: (g[6], g[7], g[8])
                        }
                    let row = u.baseAddress! + 4 * i * block + kernel
                    row[0] = a
                    row[block] = 0.5 * (a + b + c)
                    row[2 * block] = 0.5 * (a - b + c)
                    row[3 * block] = c
                }
            }
            initialized = positions * block
        }
    }

    /// ∂weight[o, c] = Gᵀ ∂U[·][o][c] G, written over `gradient` ([out, in, 3, 3]).
    static func weightGradient(
        _ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into gradient: UnsafeMutablePointer<Float>
    ) {
        let block = outChannels * inChannels
        for kernel in 0..<block {
            let (u, g) = (du + kernel, gradient + kernel * 9)
            for i in 0..<3 {
                // Row i of Gᵀ ∂U.
                func entry(_ j: Int) -> Float {
                    let (u0, u1, u2, u3) = (u[j * block], u[(4 + j) * block], u[(8 + j) * block], u[(12 + j) * block])
                    switch i {
                    case 0: return u0 + 0.5 * (u1 + u2)
                    case 1: return 0.5 * (u1 - u2)
                    default: return 0.5 * (u1 + u2) + u3
                    }
                }
                let (a, b, c, d) = (entry(0), entry(1), entry(2), entry(3))
                g[3 * i] = a + 0.5 * (b + c)
                g[3 * i + 1] = 0.5 * (b - c)
                g[3 * i + 2] = 0.5 * (b + c) + d
            }
        }
    }

    /// V[ξ][c][tile] = (Bᵀ d B)[ξ] for every 4×4 window d of `imageCount` images' planes ([images, channelCount,
    /// H, W] from `input`; zero outside), Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], for the channels in
    /// `channels`.
    func transformInput(
        _ input: UnsafePointer<Float>, imageCount: Int, channelCount: Int, channels: Range<Int>,
        into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        lethe_winograd_transform_input(
            input, height, width, imageCount, channelCount, channels.lowerBound, channels.upperBound, v, stride)
    }

    /// The output planes of `imageCount` images ([images, outChannelCount, H, W] into `output`) from M[ξ][o][tile] =
    /// (U[ξ]·V[ξ])[o, tile] (`m`): Y = Aᵀ M A + bias for every tile, Aᵀ = [1 1 1 0; 0 1 −1 −1], for the channels
    /// in `channels`.
    func transformOutput(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: [Float]?, into output: UnsafeMutablePointer<Float>
    ) {
        withOptionalPointer(bias) { bias in
            lethe_winograd_transform_output(
                m, stride, height, width, outChannelCount, channels.lowerBound, channels.upperBound, imageCount, bias,
                output)
        }
    }

    /// `transformOutput` followed by a 2×2, stride-2 max-pool on planes of even width: each tile's 2×2 block is one
    /// pooling window, so the pooled planes ([images, outChannelCount, H/2, W/2] into `pooled`) come straight from
    /// the tiles, with the values and window choice (each line's neighbours, then the two lines' winners, as
    /// `MaxPool2d` pairs them) of the passes one after the other, and each maximum's index in its plane in
    /// `positions` (training: the ReLU runs after, `MaxPool2d.adoptRectified`). An odd height's last tile row is in
    /// no window.
    func transformOutputPooled(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: [Float]?, into pooled: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>
    ) {
        precondition(width % 2 == 0, "pooling in the output transform needs an even width")
        withOptionalPointer(bias) { bias in
            lethe_winograd_transform_output_pooled(
                m, stride, height, width, outChannelCount, channels.lowerBound, channels.upperBound, imageCount, bias,
                pooled, positions)
        }
    }

    /// ∂M[ξ][o][tile] = (A ∂Y Aᵀ)[ξ] for every tile of `imageCount` images' output gradient ([images,
    /// outChannelCount, H, W] from `gradient`; pixels beyond an odd edge count as zero), for the channels in
    /// `channels`, A = [1 0; 1 1; 1 −1; 0 −1].
    func transformOutputGradient(
        _ gradient: UnsafePointer<Float>, imageCount: Int, outChannelCount: Int, channels: Range<Int>,
        into dm: UnsafeMutablePointer<Float>, stride: Int
    ) {
        lethe_winograd_transform_output_gradient(
            gradient, height, width, imageCount, outChannelCount, channels.lowerBound, channels.upperBound, dm, stride)
    }

    /// The input gradient of `imageCount` images ([images, channelCount, H, W] into `gradient`, written whole)
    /// from ∂V[ξ][c][tile]: ∂d = B ∂V Bᵀ for every tile, the windows' overlapping pixels added up tile row by tile
    /// row, for the channels in `channels`.
    func inputGradient(
        _ dv: UnsafePointer<Float>, stride: Int, channelCount: Int, channels: Range<Int>, imageCount: Int,
        into gradient: UnsafeMutablePointer<Float>
    ) {
        lethe_winograd_input_gradient(
            dv, stride, height, width, channelCount, channels.lowerBound, channels.upperBound, imageCount, gradient)
    }
}

/// `body` with a pointer to `values`' elements, or nil.
private func withOptionalPointer(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> Void) {
    guard let values else { return body(nil) }
    values.withUnsafeBufferPointer { body($0.baseAddress) }
}
