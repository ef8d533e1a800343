import Foundation
import Tensor

/// A dataset an alias derives from installed files instead of reading them as they are.
public enum DatasetDerivation: String, Sendable, Equatable {
    /// `RotationTask`: predict the angle each image was rotated by.
    case rotation
}

/// The rotated-FashionMNIST regression task (`fashion-mnist-rotation`): each real image is rotated about its
/// centre by a seeded angle drawn uniformly from [−60°, 60°) (bilinear interpolation, the background value
/// outside the original frame), and the target is that angle divided by 60 (so targets lie in [−1, 1), and an
/// L1 error of 0.1 is 6°). Labels keep the garment class, which only groups samples. The angles depend only on
/// the split and the sample's position, so every load gives the same bits.
public enum RotationTask {
    /// Angles are drawn from [−maxDegrees, maxDegrees).
    public static let maxDegrees: Float = 60

    /// The rotated images of `dataset` with their angles as targets [N, 1].
    public static func derive(from dataset: Dataset, split: Split, name: String) -> Dataset {
        var generator = SeededGenerator(seed: 18, stream: "rotation-\(split)")
        let targets = (0..<dataset.count).map { _ in generator.nextFloat(in: -1..<1) }
        let original = dataset.images
        let background = original.scalars.min() ?? 0
        let images = rotated(original, byDegrees: targets.map { $0 * maxDegrees }, background: background)
        return Dataset(
            name: name, images: images, labels: dataset.labels, classCount: dataset.classCount,
            targets: Tensor(shape: [dataset.count, 1], scalars: targets))
    }

    /// Each image [C, H, W] of `images` rotated counter-clockwise by its angle about the centre: output pixel
    /// (y, x) samples the source at the inverse rotation of (y, x), bilinearly, `background` outside the frame.
    public static func rotated(_ images: Tensor, byDegrees angles: [Float], background: Float) -> Tensor {
        let (count, channels, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(angles.count == count, "one angle per image")
        let (cy, cx) = (Float(height - 1) / 2, Float(width - 1) / 2)
        return Tensor(shape: images.shape) { output in
            images.withUnsafeBufferPointer { source in
                for n in 0..<count {
                    let radians = angles[n] * .pi / 180
                    let (c, s) = (cos(radians), sin(radians))
                    for channel in 0..<channels {
                        let base = (n * channels + channel) * height * width
                        func pixel(_ y: Int, _ x: Int) -> Float {
                            y >= 0 && y < height && x >= 0 && x < width ? source[base + y * width + x] : background
                        }
                        for y in 0..<height {
                            for x in 0..<width {
                                let (dy, dx) = (Float(y) - cy, Float(x) - cx)
                                // Inverse rotation: where (y, x) came from.
                                let sx = c * dx - s * dy + cx
                                let sy = s * dx + c * dy + cy
                                let (x0, y0) = (Int(sx.rounded(.down)), Int(sy.rounded(.down)))
                                let (fx, fy) = (sx - Float(x0), sy - Float(y0))
                                let top = pixel(y0, x0) * (1 - fx) + pixel(y0, x0 + 1) * fx
                                let bottom = pixel(y0 + 1, x0) * (1 - fx) + pixel(y0 + 1, x0 + 1) * fx
                                output[base + y * width + x] = top * (1 - fy) + bottom * fy
                            }
                        }
                    }
                }
            }
        }
    }
}
