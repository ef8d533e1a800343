import Data
import Foundation
import Tensor

/// Which training samples to forget (DESIGN §3). Resolved against a dataset into a `ForgetSet`.
public enum ForgetSelection: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Every training sample of these classes.
    case classes([Int])
    /// A stratified random subset: round(fraction · n_c) samples of every class c, chosen by `seed`.
    case fraction(Double, seed: UInt64)
    /// Explicit training indices.
    case indices([Int])
    /// The confusion scenario's mislabelled samples (the original was trained with `count` labels of each of
    /// the two classes swapped; see `TrainingSplit.Confusion`).
    case confusion(classes: [Int], count: Int)
    /// Every training sample of a regression dataset whose first target lies in lower...upper (the paper's
    /// "ages ≤ 30"; for `fashion-mnist-rotation`, a range of angles / 60).
    case targetRange(lower: Float, upper: Float)

    public var description: String {
        switch self {
        case .classes(let classes): "classes \(classes.map(String.init).joined(separator: ","))"
        case .fraction(let fraction, let seed): "random \(fraction * 100)% (stratified, seed \(seed))"
        case .indices(let indices): "\(indices.count) listed samples"
        case .confusion(let classes, let count):
            "\(count) + \(count) swapped labels of classes \(classes.map(String.init).joined(separator: " and "))"
        case .targetRange(let lower, let upper): "targets in \(lower)...\(upper)"
        }
    }

    /// The selection without its seed: what stays the same across the seeds of one experiment.
    public var scenario: String {
        switch self {
        case .fraction(let fraction, _): "random \(String(format: "%g", fraction * 100))%"
        default: description
        }
    }

    /// The forget and retain indices among the samples `split` trains on, with `dataset`'s true labels.
    public func resolve(in dataset: Dataset, split: TrainingSplit = TrainingSplit()) throws(ForgetSelectionError)
        -> ForgetSet
    {
        let pool = split.trainingIndices(in: dataset)
        let forget: [Int]
        if let targets = dataset.targets {
            switch self {
            case .classes, .confusion:
                throw .wrongTask(
                    "\(dataset.name) is a regression dataset: forget a target range (--forget-targets LOW...HIGH), "
                        + "listed samples or a random fraction, not \(self)")
            case .fraction, .indices, .targetRange: break
            }
            if case .targetRange(let lower, let upper) = self {
                guard lower <= upper else { throw .outOfRange("the target range \(lower)...\(upper) is empty") }
                let columns = targets.shape[1]
                return try Self.finish(
                    self, pool: pool,
                    forget: pool.filter { (lower...upper).contains(targets.scalars[$0 * columns]) })
            }
        } else if case .targetRange = self {
            throw .wrongTask("\(dataset.name) has no regression targets: forget classes or samples, not \(self)")
        }
        switch self {
        case .classes(let classes):
            guard !classes.isEmpty else { throw .empty("no classes given") }
            if let bad = classes.first(where: { $0 < 0 || $0 >= dataset.classCount }) {
                throw .outOfRange("class \(bad) does not exist (\(dataset.classCount) classes)")
            }
            guard Set(classes).count < dataset.classCount else { throw .empty("forgetting every class leaves nothing") }
            let wanted = Set(classes)
            forget = pool.filter { wanted.contains(dataset.labels[$0]) }
        case .fraction(let fraction, let seed):
            guard fraction > 0 && fraction < 1 else { throw .outOfRange("the fraction must be between 0 and 1") }
            forget = dataset.stratifiedSample(of: pool, fraction: fraction, seed: seed, stream: "forget-fraction")
        case .indices(let indices):
            if let bad = indices.first(where: { $0 < 0 || $0 >= dataset.count }) {
                throw .outOfRange("index \(bad) is not a training index in 0..<\(dataset.count)")
            }
            let held = IndexMask(split.validationIndices(in: dataset))
            if let bad = indices.first(where: { held.contains($0) }) {
                throw .outOfRange("index \(bad) is in the validation split, which the model never trained on")
            }
            forget = IndexMask(indices).sorted
        case .confusion(let classes, let count):
            guard let confusion = split.confusion, confusion.classes == classes, confusion.count == count else {
                throw .outOfRange(
                    "the model was not trained with \(count) swapped labels of classes \(classes.map(String.init).joined(separator: ",")); train it with lethe train --confuse-classes … --confuse-count …"
                )
            }
            forget = split.swappedIndices(in: dataset)
        case .targetRange: preconditionFailure("target ranges are resolved above")
        }
        return try Self.finish(self, pool: pool, forget: forget)
    }

    private static func finish(_ selection: ForgetSelection, pool: [Int], forget: [Int]) throws(ForgetSelectionError)
        -> ForgetSet
    {
        guard !forget.isEmpty else { throw .empty("the selection \(selection) contains no training sample") }
        guard forget.count < pool.count else { throw .empty("the selection \(selection) leaves nothing to retain") }
        let forgotten = IndexMask(forget)
        let classes: [Int]? = if case .classes(let classes) = selection { Array(Set(classes)).sorted() } else { nil }
        return ForgetSet(
            selection: selection, forget: forget, retain: pool.filter { !forgotten.contains($0) },
            forgottenClasses: classes)
    }
}

/// A selection resolved against a training set: which indices to forget and which to retain.
public struct ForgetSet: Sendable, Equatable, Codable {
    public let selection: ForgetSelection
    /// Training indices to forget, ascending.
    public let forget: [Int]
    /// Every other training index, ascending.
    public let retain: [Int]
    /// The forgotten classes, for class-forgetting scenarios.
    public let forgottenClasses: [Int]?
}

public enum ForgetSelectionError: Error, Equatable, CustomStringConvertible {
    case outOfRange(String)
    case empty(String)
    /// A selection for the other kind of task: classes of a regression dataset, a target range of a classification one.
    case wrongTask(String)

    public var description: String {
        switch self {
        case .outOfRange(let message), .empty(let message), .wrongTask(let message): message
        }
    }
}
