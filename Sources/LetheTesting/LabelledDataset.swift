import Data
import Tensor

/// A small labelled dataset whose class c has `count(c)` samples, in shuffled order.
public func labelledDataset(perClass: [Int], seed: UInt64 = 1) -> Dataset {
    var labels = perClass.enumerated().flatMap { label, count in [Int](repeating: label, count: count) }
    var generator = SeededGenerator(seed: seed)
    labels = generator.permutation(labels.count).map { labels[$0] }
    var pixels = SeededGenerator(seed: seed &+ 1)
    let images = Tensor(shape: [labels.count, 1, 28, 28]) { buffer in
        for i in 0..<buffer.count { buffer[i] = 0.1 * pixels.nextGaussian() }
        for (n, label) in labels.enumerated() {
            for column in 0..<28 { buffer[n * 784 + label * 28 + column] += 1 }
        }
    }
    return Dataset(name: "toy", images: images, labels: labels, classCount: perClass.count)
}
