import Tensor

/// The generator of zero-shot knowledge transfer (Micaelli & Storkey; Chundawat et al.'s GKT): latent codes
/// z ∈ R^latent → images of `imageShape`. Linear(latent → 128·b²) → view [128, b, b] → BN → ×2 upsample →
/// 3×3 conv 128→128 → BN → LeakyReLU 0.2 → ×2 upsample → 3×3 conv 128→64 → BN → LeakyReLU 0.2 → conv 64→C →
/// affine BN, with PyTorch's names (`layers.0.weight` …). Images of side S (a multiple of 4) come from b = S/4
/// and a 3×3 last conv, except single-channel ones, which follow the reference: b = S/4 + 1 and a 7×7 last conv
/// with padding 1 (28 from 32). Its BatchNorms always use batch statistics, as the reference trains it.
public final class ImageGenerator {
    public let imageShape: [Int]
    public let latentSize: Int
    public let root: Sequential

    public init(imageShape: [Int], latentSize: Int = 128, seed: UInt64) throws(GeneratorShapeError) {
        guard imageShape.count == 3, imageShape[1] == imageShape[2], imageShape[1] >= 8, imageShape[1] % 4 == 0,
            imageShape[0] >= 1
        else { throw GeneratorShapeError(imageShape: imageShape) }
        let (channels, side) = (imageShape[0], imageShape[1])
        let (base, kernel) = channels == 1 ? (side / 4 + 1, 7) : (side / 4, 3)
        var generator = SeededGenerator(seed: seed, stream: "generator-init")
        let layers = Sequential([
            ("0", Linear(latentSize, 128 * base * base, using: &generator)), (nil, Unflatten([128, base, base])),
            ("2", BatchNorm2d(128)), (nil, Upsample(factor: 2)),
            ("4", Conv2d(128, 128, kernel: 3, padding: 1, using: &generator)), ("5", BatchNorm2d(128)),
            (nil, LeakyReLU(slope: 0.2)), (nil, Upsample(factor: 2)),
            ("8", Conv2d(128, 64, kernel: 3, padding: 1, using: &generator)), ("9", BatchNorm2d(64)),
            (nil, LeakyReLU(slope: 0.2)),
            ("11", Conv2d(64, channels, kernel: kernel, padding: 1, using: &generator)), ("12", BatchNorm2d(channels)),
        ])
        self.imageShape = imageShape
        self.latentSize = latentSize
        root = Sequential([("layers", layers)])
    }

    /// Images [N] + `imageShape` for latent codes [N, latent] (N ≥ 2: the BatchNorms use batch statistics).
    public func callAsFunction(_ z: Tensor) -> Tensor {
        precondition(z.rank == 2 && z.shape[1] == latentSize, "the generator takes [N, \(latentSize)], got \(z.shape)")
        return root.forward(z, mode: .train())
    }

    /// Back-propagates ∂L/∂images of the last call, adding into every parameter's `grad`.
    public func backward(_ imageGradient: Tensor) { _ = root.backward(imageGradient) }

    /// Every parameter and buffer in `state_dict` order.
    public var namedState: [(name: String, parameter: Parameter)] { root.namedState }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namedState.filter { $0.parameter.isTrainable }
    }

    public func zeroGradients() {
        for (_, parameter) in namedParameters { parameter.zeroGrad() }
    }
}

/// The generator cannot make images of this shape.
public struct GeneratorShapeError: Error, Equatable, CustomStringConvertible {
    public let imageShape: [Int]

    public init(imageShape: [Int]) { self.imageShape = imageShape }

    public var description: String {
        "the generator makes square images [C, S, S] whose side S is a multiple of 4 and at least 8 (e.g. [1, 28, 28] or [3, 32, 32]); this model takes inputs of shape \(imageShape)"
    }
}
