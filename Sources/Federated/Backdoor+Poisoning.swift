import Data
import NN
import Tensor

extension Backdoor {
    /// The images with the bottom-right `patch × patch` pixels of every channel set to `value` (a patch larger
    /// than the images covers the whole image).
    /// - Parameter images: [N, C, H, W].
    public func stamped(_ images: Tensor, value: Float) -> Tensor {
        precondition(images.rank == 4, "images must be [N, C, H, W], got \(images.shape)")
        let (planes, height, width) = (images.shape[0] * images.shape[1], images.shape[2], images.shape[3])
        var result = images
        result.withUnsafeMutableBufferPointer { buffer in
            for plane in 0..<planes {
                for row in max(height - patch, 0)..<height {
                    let rowStart = (plane * height + row) * width
                    for column in max(width - patch, 0)..<width { buffer[rowStart + column] = value }
                }
            }
        }
        return result
    }

    /// The dataset followed by `round(fraction · count)` poisoned copies: seeded-randomly chosen samples whose
    /// label is not `target` (without replacement, or all of them when there are fewer), stamped with the
    /// dataset's largest pixel value (white after normalisation) and labelled `target`. The copies follow in
    /// ascending order of the samples they copy.
    /// - Throws: `FederatedError.backdoorTargetOutOfRange` when the dataset has no class `target`,
    ///   `.backdoorPatchTooLarge` when the patch does not fit the images.
    public func poisoned(_ dataset: Dataset, seed: UInt64) throws(FederatedError) -> Dataset {
        guard target < dataset.classCount else {
            throw .backdoorTargetOutOfRange(target: target, classCount: dataset.classCount)
        }
        let (height, width) = (dataset.imageShape[1], dataset.imageShape[2])
        guard patch <= height && patch <= width else {
            throw .backdoorPatchTooLarge(patch: patch, height: height, width: width)
        }
        let candidates = dataset.indices(excludingClasses: [target])
        let wanted = Int((fraction * Double(dataset.count)).rounded())
        var generator = SeededGenerator(seed: seed, stream: "backdoor.poison")
        let chosen = generator.permutation(candidates.count).prefix(wanted).map { candidates[$0] }.sorted()
        guard !chosen.isEmpty else { return dataset }
        let images = dataset.images
        let copies = stamped(images.gather(rows: chosen), value: Self.white(images))
        return Dataset(
            name: dataset.name, images: Tensor.concatenate([images, copies]),
            labels: dataset.labels + [Int](repeating: target, count: chosen.count), classCount: dataset.classCount)
    }

    /// The test samples whose label is not `target`, in their original order, stamped with the test set's
    /// largest pixel value and keeping their true labels.
    public func triggeredTestSet(_ test: Dataset) -> Dataset {
        let kept = test.subset(indices: test.indices(excludingClasses: [target]))
        return Dataset(
            name: kept.name, images: stamped(kept.images, value: Self.white(test.images)), labels: kept.labels,
            classCount: kept.classCount)
    }

    /// The fraction of the triggered non-target test images (`triggeredTestSet`) that `model` classifies as
    /// `target`, in [0, 1]; 0 when every test sample belongs to the target class.
    /// - Parameter batchSize: Images per forward pass (in `.inference` mode); positive.
    public func attackSuccessRate(of model: Model, on test: Dataset, batchSize: Int = 250) -> Double {
        precondition(batchSize > 0, "batchSize must be positive, got \(batchSize)")
        let triggered = triggeredTestSet(test)
        guard triggered.count > 0 else { return 0 }
        var hits = 0
        for start in stride(from: 0, to: triggered.count, by: batchSize) {
            let rows = start..<min(start + batchSize, triggered.count)
            let logits = model.forward(triggered.images.slice(rows: rows), mode: .inference)
            hits += logits.argmaxRows().filter { $0 == target }.count
        }
        return Double(hits) / Double(triggered.count)
    }

    /// The largest pixel value of the images (0 when there are none).
    private static func white(_ images: Tensor) -> Float {
        images.scalars.max() ?? 0
    }
}
