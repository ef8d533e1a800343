import Data
import Tensor

/// How the original model used the training set: a seeded, stratified validation split it never trained on
/// (for tuning, stopping rules and SCRUB+R), and optionally the confusion scenario's swapped labels. Saved
/// in the original's checkpoint so unlearning reconstructs the very same sets.
public struct TrainingSplit: Sendable, Codable, Equatable {
    public var validationFraction: Double
    public var validationSeed: UInt64
    public var confusion: Confusion?

    /// The confusion scenario: `count` samples of class A labelled B and `count` of B labelled A.
    public struct Confusion: Sendable, Codable, Equatable {
        public var classes: [Int]
        public var count: Int
        public var seed: UInt64

        public init(classes: [Int], count: Int, seed: UInt64) {
            self.classes = classes
            self.count = count
            self.seed = seed
        }
    }

    public init(validationFraction: Double = 0, validationSeed: UInt64 = 0, confusion: Confusion? = nil) {
        self.validationFraction = validationFraction
        self.validationSeed = validationSeed
        self.confusion = confusion
    }

    /// Why the split cannot be made on `dataset`, or nil.
    public func problem(in dataset: Dataset) -> String? {
        if validationFraction < 0 || validationFraction >= 1 { return "the validation fraction must be in [0, 1)" }
        guard let confusion else { return nil }
        guard confusion.classes.count == 2, confusion.classes[0] != confusion.classes[1] else {
            return "confusion needs two different classes, like 3,5"
        }
        if let bad = confusion.classes.first(where: { $0 < 0 || $0 >= dataset.classCount }) {
            return "class \(bad) does not exist (\(dataset.classCount) classes)"
        }
        let training = trainingIndices(in: dataset)
        for label in confusion.classes {
            let available = training.filter { dataset.labels[$0] == label }.count
            if confusion.count < 1 || confusion.count > available {
                return "confuse-count must be between 1 and \(available) (the training samples of class \(label))"
            }
        }
        return nil
    }

    /// Held-out indices, ascending.
    public func validationIndices(in dataset: Dataset) -> [Int] {
        guard validationFraction > 0 else { return [] }
        return dataset.stratifiedSample(
            of: Array(0..<dataset.count), fraction: validationFraction, seed: validationSeed, stream: "validation")
    }

    /// The indices the original trained on, ascending.
    public func trainingIndices(in dataset: Dataset) -> [Int] {
        let held = IndexMask(validationIndices(in: dataset))
        return (0..<dataset.count).filter { !held.contains($0) }
    }

    /// The confusion scenario's relabelled training indices, ascending (empty without confusion).
    public func swappedIndices(in dataset: Dataset) -> [Int] {
        guard let confusion else { return [] }
        let training = trainingIndices(in: dataset)
        return confusion.classes.flatMap { label in
            let members = training.filter { dataset.labels[$0] == label }
            var generator = SeededGenerator(seed: confusion.seed, stream: "confusion-\(label)")
            return generator.permutation(members.count).prefix(confusion.count).map { members[$0] }
        }.sorted()
    }

    /// The training set as the original saw it: with the confusion scenario's labels swapped.
    public func applying(to dataset: Dataset) -> Dataset {
        guard let confusion else { return dataset }
        let (a, b) = (confusion.classes[0], confusion.classes[1])
        var swapped: [Int: Int] = [:]
        for index in swappedIndices(in: dataset) { swapped[index] = dataset.labels[index] == a ? b : a }
        return dataset.relabelled(swapped)
    }
}
