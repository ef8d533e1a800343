import CKernels
import Tensor

/// Winograd's minimal filtering F(4×4, 3×3) for 3×3 convolutions with stride 1 and padding 1: each 4×4 block of
/// output (a *tile*) comes from the 6×6 window of padded input around it, windows 4 apart, so a chunk's
/// convolution is 36 products U[ξ]·V[ξ], [out, in]·[in, tiles], 4× fewer multiply-accumulates than im2col's one
/// [out, 9·in]·[9·in, pixels].
///
///     V = Bᵀ d B  (input window d, 6×6)     U = G g Gᵀ  (kernel g, 3×3)     Y = Aᵀ (U ⊙ V) A  (4×4 output)
///
///     Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
///     G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1]
///     Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
///
/// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016). Every transform is a fixed
/// sequence of IEEE operations, the same on every CPU. The backward pass differentiates these formulas exactly:
/// ∂M = A ∂Y Aᵀ, ∂U[ξ] = ∂M[ξ]·V[ξ]ᵀ, ∂V[ξ] = U[ξ]ᵀ·∂M[ξ], ∂d = B ∂V Bᵀ (windows overlapping by two pixels add up),
/// ∂g = Gᵀ ∂U G.
///
/// Transformed matrices are laid out [ξ][channel][tile], `positionStride` floats from one position's matrix to the
/// next and `stride` (`rowStride`) floats from one channel's row
/// to the next and tiles numbered image by image, then row by row within an image. The transforms are C
/// (`winograd4.c`, sixteen tiles a vector), compiled for the widest vectors of the CPU with the same operations in
/// the same order on every one.
struct WinogradTiling {
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

    /// Floats from one position's matrix to the next, for `channels` rows `stride` apart: the matrix and, when it is
    /// an even number of 64-byte lines long, one line more. A transform touches a block's line at all 36 positions
    /// at once; matrices a multiple of 4 KB apart (fmnist-cnn's conv2: 28 KB) put those 36 lines in one set of the
    /// L1 cache, whose 8 ways then miss on every block. An odd number of lines apart, they fall in 36 different
    /// sets. Only addresses move: the products and the transforms compute the same values.
    static func positionStride(channels: Int, stride: Int) -> Int {
        let floats = channels * stride
        return floats / 16 % 2 == 0 ? floats + 16 : floats
    }

    /// U[ξ][o][c] = (G g Gᵀ)[ξ] for every kernel g = weight[o, c] ([out, in, 3, 3]).
    static func transformWeights(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int) -> [Float] {
        let kernels = outChannels * inChannels
        return [Float](unsafeUninitializedCapacity: positions * kernels) { u, initialized in
            let u = u.baseAddress!
            Parallel.forEach(kernels, grain: 256) { range in
                lethe_winograd4_transform_weights(weight, kernels, range.lowerBound, range.upperBound, u)
            }
            initialized = positions * kernels
        }
    }

    /// V[ξ][c][tile] = (Bᵀ d B)[ξ] for every 6×6 window d of `imageCount` images' planes ([images, channelCount,
    /// H, W] from `input`; zero outside), for the channels in `channels`.
    func transformInput(
        _ input: UnsafePointer<Float>, imageCount: Int, channelCount: Int, channels: Range<Int>,
        into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        lethe_winograd4_transform_input(
            input, height, width, imageCount, channelCount, channels.lowerBound, channels.upperBound, v, stride,
            Self.positionStride(channels: channelCount, stride: stride))
    }

    /// The output planes of `imageCount` images ([images, outChannelCount, H, W] into `output`) from M[ξ][o][tile]
    /// = (U[ξ]·V[ξ])[o, tile]: Y = Aᵀ M A + bias for every tile, for the channels in `channels`.
    func transformOutput(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: [Float]?, into output: UnsafeMutablePointer<Float>
    ) {
        bias.withOptionalPointer { bias in
            lethe_winograd4_transform_output(
                m, stride, Self.positionStride(channels: outChannelCount, stride: stride), height, width,
                outChannelCount, channels.lowerBound, channels.upperBound, imageCount, bias, output)
        }
    }

    /// `transformOutput` followed by a 2×2, stride-2 max-pool on planes of even width: each tile's 4×4 block holds
    /// four pooling windows, so the pooled planes ([images, outChannelCount, H/2, W/2] into `pooled`) come straight
    /// from the tiles, with the values and window choice (each line's neighbours, then the two lines' winners, as
    /// `MaxPool2d` pairs them) of the passes one after the other. For inference rectified as `Vectorized.relu`
    /// would (no `positions`); for training with each maximum's index in its plane in `positions` and not
    /// rectified (the ReLU runs after, `MaxPool2d.adoptRectified`). An odd height's last line is in no window.
    func transformOutputPooled(
        _ m: UnsafePointer<Float>, stride: Int, outChannelCount: Int, channels: Range<Int>, imageCount: Int,
        bias: [Float]?, into pooled: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>?
    ) {
        precondition(width % 2 == 0, "pooling in the output transform needs an even width")
        bias.withOptionalPointer { bias in
            lethe_winograd4_transform_output_pooled(
                m, stride, Self.positionStride(channels: outChannelCount, stride: stride), height, width,
                outChannelCount, channels.lowerBound, channels.upperBound, imageCount, bias, positions == nil ? 1 : 0,
                pooled, positions)
        }
    }

    /// ∂M[ξ][o][tile] = (A ∂Y Aᵀ)[ξ] for every tile of `imageCount` images' output gradient ([images,
    /// outChannelCount, H, W] from `gradient`; pixels past the planes' edges count as zero), for the channels in
    /// `channels`.
    func transformOutputGradient(
        _ gradient: UnsafePointer<Float>, imageCount: Int, outChannelCount: Int, channels: Range<Int>,
        into dm: UnsafeMutablePointer<Float>, stride: Int
    ) {
        lethe_winograd4_transform_output_gradient(
            gradient, height, width, imageCount, outChannelCount, channels.lowerBound, channels.upperBound, dm, stride,
            Self.positionStride(channels: outChannelCount, stride: stride))
    }

    /// The input gradient of `imageCount` images ([images, channelCount, H, W] into `gradient`, written whole)
    /// from ∂V[ξ][c][tile]: ∂d = B ∂V Bᵀ for every tile, the windows' overlapping pixels added up tile after tile,
    /// for the channels in `channels`.
    func inputGradient(
        _ dv: UnsafePointer<Float>, stride: Int, channelCount: Int, channels: Range<Int>, imageCount: Int,
        into gradient: UnsafeMutablePointer<Float>
    ) {
        lethe_winograd4_input_gradient(
            dv, stride, Self.positionStride(channels: channelCount, stride: stride), height, width, channelCount,
            channels.lowerBound, channels.upperBound, imageCount, gradient)
    }

    /// ∂weight[o, c] = Gᵀ ∂U[·][o][c] G, written over `gradient` ([out, in, 3, 3]).
    static func weightGradient(
        _ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into gradient: UnsafeMutablePointer<Float>
    ) {
        lethe_winograd4_weight_gradient(du, outChannels * inChannels, gradient)
    }
}
