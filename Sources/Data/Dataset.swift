import Tensor

/// Which half of a dataset to load.
public enum Split: String, Sendable, CaseIterable, CustomStringConvertible {
    case train
    case test

    public var description: String { rawValue }
}

/// Labelled images held in memory: `storedImages` are [N, C, H, W] float32 as models read them, normalised (held as
/// the file's uint8 pixels where they came from such a file); `labels[i]` is the class of image `i`, in
/// 0..<classCount. A regression dataset also has `targets` [N, K], the K real values
/// to predict for each image; its labels then only group the samples (e.g. the garment of a rotated image).
public struct Dataset: Sendable {
    public var name: String
    public let storedImages: DatasetImages
    public private(set) var labels: [Int]
    public let classCount: Int
    /// Regression targets [N, K], or nil for a classification dataset.
    public private(set) var targets: Tensor?
    /// What the samples were loaded from and how (`DatasetSource`), set by `DatasetLoader` for a split read from
    /// files as they are; nil for any dataset made otherwise (a subset, a relabelling, a derived task).
    public internal(set) var source: String?

    public init(name: String, images: Tensor, labels: [Int], classCount: Int, targets: Tensor? = nil) {
        self.init(name: name, images: DatasetImages(images), labels: labels, classCount: classCount, targets: targets)
    }

    public init(name: String, images: DatasetImages, labels: [Int], classCount: Int, targets: Tensor? = nil) {
        precondition(images.count == labels.count, "\(images.count) images but \(labels.count) labels")
        precondition(classCount > 0, "classCount must be positive")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "label out of range 0..<\(classCount)")
        if let targets {
            precondition(
                targets.rank == 2 && targets.shape[0] == labels.count,
                "regression targets must be [\(labels.count), K], got \(targets.shape)")
        }
        self.name = name
        storedImages = images
        self.labels = labels
        self.classCount = classCount
        self.targets = targets
    }

    /// Every image [N, C, H, W] as one float tensor, converted now when held as pixels (188 MB for FashionMNIST's
    /// training set): batches and subsets take `batch(indices:)` and `subset(indices:)`.
    public var images: Tensor { storedImages.tensor }

    /// Whether the samples carry regression targets.
    public var isRegression: Bool { targets != nil }

    /// The regression targets of `indices` [indices.count, K], in the order given.
    public func targets(of indices: [Int]) -> Tensor {
        guard let targets else { preconditionFailure("\(name) has no regression targets") }
        return targets.gather(rows: indices)
    }

    /// A dataset from an images file and a labels file read separately, refusing a count mismatch or an
    /// empty pair with an error that names both files. `classCount` nil means the largest label + 1.
    public static func pairing(
        images: DatasetImages, imagesPath: String, labels: [Int], labelsPath: String, name: String, classCount: Int?
    ) throws(DatasetError) -> Dataset {
        guard images.count == labels.count else {
            throw .countMismatch(
                imagesPath: imagesPath, images: images.count, labelsPath: labelsPath, labels: labels.count)
        }
        guard let largest = labels.max() else { throw .empty(path: imagesPath) }
        return Dataset(name: name, images: images, labels: labels, classCount: classCount ?? (largest + 1))
    }

    /// Number of samples.
    public var count: Int { labels.count }

    /// [C, H, W] of one image.
    public var imageShape: [Int] { Array(storedImages.shape.dropFirst()) }

    /// How many samples each class has, indexed by class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The samples at `indices`, in the order given (repeats allowed).
    public func subset(indices: [Int]) -> Dataset {
        Dataset(
            name: name, images: storedImages.subset(indices), labels: indices.map { labels[$0] },
            classCount: classCount,
            targets: targets?.gather(rows: indices))
    }

    /// Indices of every sample whose label is in `classes`, in ascending order.
    public func indices(ofClasses classes: some Sequence<Int>) -> [Int] {
        var wanted = [Bool](repeating: false, count: classCount)
        for label in classes where label >= 0 && label < classCount { wanted[label] = true }
        return labels.indices.filter { wanted[labels[$0]] }
    }

    /// Indices of every sample whose label is not in `classes`, in ascending order.
    public func indices(excludingClasses classes: some Sequence<Int>) -> [Int] {
        let excluded = Set(classes)
        return labels.indices.filter { !excluded.contains(labels[$0]) }
    }

    /// Images [indices.count, C, H, W] and their labels, in the order given.
    public func batch(indices: [Int]) -> (images: Tensor, labels: [Int]) {
        (storedImages.rows(indices), indices.map { labels[$0] })
    }
}

extension Dataset: CustomStringConvertible {
    public var description: String {
        let kind = targets.map { "\($0.shape[1]) regression target\($0.shape[1] == 1 ? "" : "s"), " } ?? ""
        return
            "\(name): \(count) images \(imageShape.map(String.init).joined(separator: "×")), \(kind)\(classCount) classes"
    }
}

extension Dataset {
    /// The same samples with some labels replaced (index → new label).
    public func relabelled(_ newLabels: [Int: Int]) -> Dataset {
        var copy = self
        for (index, label) in newLabels {
            precondition(label >= 0 && label < classCount, "label \(label) out of range")
            copy.labels[index] = label
        }
        return copy
    }

    /// A stratified seeded sample of `pool`: round(fraction · n_c) of the pool's members of every class c,
    /// ascending. `stream` names the draw, so different uses of one seed are independent.
    public func stratifiedSample(of pool: [Int], fraction: Double, seed: UInt64, stream: String) -> [Int] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for index in pool { byClass[labels[index]].append(index) }
        var picked: [Int] = []
        for (label, members) in byClass.enumerated() {
            var generator = SeededGenerator(seed: seed, stream: "\(stream)-class-\(label)")
            let order = generator.permutation(members.count)
            picked += order.prefix(Int((fraction * Double(members.count)).rounded())).map { members[$0] }
        }
        return picked.sorted()
    }
}
