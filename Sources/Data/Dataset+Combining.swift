import Tensor

/// Datasets put together, and the samples two of them share.
extension Dataset {
    /// This dataset's samples followed by `other`'s (same image shape and classes): `other`'s sample i becomes
    /// sample `count + i`.
    public func appending(_ other: Dataset) -> Dataset {
        precondition(other.imageShape == imageShape, "appending images of shape \(other.imageShape) to \(imageShape)")
        precondition(other.classCount == classCount, "appending \(other.classCount) classes to \(classCount)")
        precondition(
            (targets == nil) == (other.targets == nil), "appending a regression dataset to a classification one")
        return Dataset(
            name: name, images: .concatenating([storedImages, other.storedImages]), labels: labels + other.labels,
            classCount: classCount, targets: targets.map { Tensor.concatenate([$0, other.targets!]) })
    }

    /// Pairs (i, j) of `indices` in this dataset and `otherIndices` in `other` whose images are identical
    /// (ascending by i, the first such j for each i): the same picture in two sets, whatever its labels.
    public func sharedImages(_ indices: [Int], with other: Dataset, _ otherIndices: [Int]) -> [(Int, Int)] {
        guard other.imageShape == imageShape else { return [] }
        var byHash: [Int: [Int]] = [:]
        for j in otherIndices { byHash[other.imageHash(j), default: []].append(j) }
        return indices.sorted().compactMap { i in
            let hash = imageHash(i)
            return byHash[hash]?.first { other.image(at: $0) == image(at: i) }.map { (i, $0) }
        }
    }

    /// The scalars of image `index`.
    func image(at index: Int) -> [Float] { storedImages.rows([index]).scalars }

    private func imageHash(_ index: Int) -> Int {
        var hasher = Hasher()
        for value in image(at: index) { hasher.combine(value.bitPattern) }
        return hasher.finalize()
    }
}
