import Data
import Tensor

/// Which training samples to forget (DESIGN §3). Resolved against a dataset into a `ForgetSet`.
public enum ForgetSelection: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Every training sample of these classes.
    case classes([Int])
    /// A stratified random subset: round(fraction · n_c) samples of every class c, chosen by `seed`.
    case fraction(Double, seed: UInt64)
    /// Explicit training indices.
    case indices([Int])

    public var description: String {
        switch self {
        case .classes(let classes): "classes \(classes.map(String.init).joined(separator: ","))"
        case .fraction(let fraction, let seed): "random \(fraction * 100)% (stratified, seed \(seed))"
        case .indices(let indices): "\(indices.count) listed samples"
        }
    }

    /// The forget and retain indices of `dataset`, or why the selection does not fit it.
    public func resolve(in dataset: Dataset) throws(ForgetSelectionError) -> ForgetSet {
        let forget: [Int]
        switch self {
        case .classes(let classes):
            guard !classes.isEmpty else { throw .empty("no classes given") }
            if let bad = classes.first(where: { $0 < 0 || $0 >= dataset.classCount }) {
                throw .outOfRange("class \(bad) does not exist (\(dataset.classCount) classes)")
            }
            guard Set(classes).count < dataset.classCount else { throw .empty("forgetting every class leaves nothing") }
            forget = dataset.indices(ofClasses: classes)
        case .fraction(let fraction, let seed):
            guard fraction > 0 && fraction < 1 else { throw .outOfRange("the fraction must be between 0 and 1") }
            var picked: [Int] = []
            for label in 0..<dataset.classCount {
                let members = dataset.indices(ofClasses: [label])
                var generator = SeededGenerator(seed: seed, stream: "forget-fraction-class-\(label)")
                let order = generator.permutation(members.count)
                let count = Int((fraction * Double(members.count)).rounded())
                picked += order.prefix(count).map { members[$0] }
            }
            forget = picked.sorted()
        case .indices(let indices):
            if let bad = indices.first(where: { $0 < 0 || $0 >= dataset.count }) {
                throw .outOfRange("index \(bad) is not a training index in 0..<\(dataset.count)")
            }
            forget = Array(Set(indices)).sorted()
        }
        guard !forget.isEmpty else { throw .empty("the selection \(self) contains no training sample") }
        guard forget.count < dataset.count else { throw .empty("the selection \(self) leaves nothing to retain") }
        let forgotten = Set(forget)
        let classes: [Int]? = if case .classes(let classes) = self { Array(Set(classes)).sorted() } else { nil }
        return ForgetSet(
            selection: self, forget: forget, retain: (0..<dataset.count).filter { !forgotten.contains($0) },
            forgottenClasses: classes)
    }
}

/// A selection resolved against a training set: which indices to forget and which to retain.
public struct ForgetSet: Sendable, Equatable {
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

    public var description: String {
        switch self {
        case .outOfRange(let message), .empty(let message): message
        }
    }
}
