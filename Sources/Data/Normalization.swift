import Tensor

/// Per-channel statistics applied to pixels in [0, 1]: x ↦ (x − mean[c]) / std[c]. One value applies to every
/// channel.
public struct Normalization: Sendable, Equatable, CustomStringConvertible {
    public let mean: [Float]
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(!mean.isEmpty && mean.count == std.count, "normalisation needs as many means as stds")
        precondition(std.allSatisfy { $0 > 0 && $0.isFinite }, "normalisation stds must be positive")
        self.mean = mean
        self.std = std
    }

    public init(mean: Float, std: Float) {
        self.init(mean: [mean], std: [std])
    }

    /// Leaves values unchanged.
    public static let identity = Normalization(mean: 0, std: 1)
    public static let fashionMNIST = Normalization(mean: 0.2860, std: 0.3530)
    public static let mnist = Normalization(mean: 0.1307, std: 0.3081)
    /// CIFAR-10 training-set statistics, also used for CIFAR-100.
    public static let cifar = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])

    public var description: String { "mean \(mean), std \(std)" }

    /// Mean and std for each of `channels` channels, or an error naming `path` when the counts disagree.
    func perChannel(_ channels: Int, path: String) throws(DatasetError) -> (mean: [Float], std: [Float]) {
        if mean.count == 1 {
            return (Array(repeating: mean[0], count: channels), Array(repeating: std[0], count: channels))
        }
        guard mean.count == channels else {
            throw .normalizationMismatch(path: path, channels: channels, statistics: mean.count)
        }
        return (mean, std)
    }
}

/// Bulk conversion of float32 / float64 pixels into NCHW float tensors over raw buffers (no per-element Array work);
/// uint8 pixels stay pixels (`DatasetImages`).
enum PixelConversion {
    /// Converts `count` images of little-endian float32 or float64 CHW values to normalised floats.
    static func floats(
        _ source: UnsafeRawPointer, count images: Int, doublePrecision: Bool, channels: Int, height: Int, width: Int,
        mean: [Float], std: [Float]
    ) -> Tensor {
        let plane = height * width
        let imageSize = channels * plane
        let scale = std.map { 1 / $0 }
        return Tensor(shape: [images, channels, height, width]) { destination in
            guard let output = destination.baseAddress else { return }
            Parallel.forEach(images, grain: 512) { range in
                for n in range {
                    for c in 0..<channels {
                        let (m, s) = (mean[c], scale[c])
                        let start = n * imageSize + c * plane
                        for i in start..<(start + plane) {
                            let value: Float
                            if doublePrecision {
                                let bits = UInt64(
                                    littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                                value = Float(Double(bitPattern: bits))
                            } else {
                                let bits = UInt32(
                                    littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                                value = Float(bitPattern: bits)
                            }
                            output[i] = (value - m) * s
                        }
                    }
                }
            }
        }
    }
}
