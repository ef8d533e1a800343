import Tensor

/// CIFAR binary batches: fixed-size records of label byte(s) followed by 3 × 32 × 32 pixel bytes in CHW order.
/// CIFAR-10 records have one label (10 classes); CIFAR-100 records a coarse (20) then a fine (100) label, and
/// Lethe uses the fine one.
public enum CIFARReader {
    public enum Variant: String, Sendable, CaseIterable {
        case cifar10 = "CIFAR-10"
        case cifar100 = "CIFAR-100"

        /// Label bytes before the pixels of each record.
        public var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        public var classCount: Int { self == .cifar10 ? 10 : 100 }
        public var recordSize: Int { labelBytes + CIFARReader.imageBytes }

        /// The batch files of a split, in loading order.
        public func fileNames(_ split: Split) -> [String] {
            switch (self, split) {
            case (.cifar10, .train): (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, .test): ["test_batch.bin"]
            case (.cifar100, .train): ["train.bin"]
            case (.cifar100, .test): ["test.bin"]
            }
        }
    }

    public static let channels = 3
    public static let side = 32
    public static let imageBytes = channels * side * side

    /// Reads and concatenates batch files, normalising every channel with its own statistics.
    public static func read(
        _ paths: [String], variant: Variant, name: String, normalization: Normalization = .cifar
    ) throws(DatasetError) -> Dataset {
        var images: [DatasetImages] = []
        var labels: [Int] = []
        for path in paths {
            let part = try readBatch(path, variant: variant, normalization: normalization)
            images.append(part.images)
            labels += part.labels
        }
        guard !images.isEmpty else { throw .empty(path: name) }
        return Dataset(
            name: name, images: .concatenating(images), labels: labels, classCount: variant.classCount)
    }

    /// One batch file: images [N, 3, 32, 32] (held as the file's pixels) and labels.
    public static func readBatch(
        _ path: String, variant: Variant, normalization: Normalization = .cifar
    ) throws(DatasetError) -> (images: DatasetImages, labels: [Int]) {
        let bytes = try ByteFile.read(path)
        let recordSize = variant.recordSize
        guard !bytes.isEmpty else { throw .empty(path: path) }
        let count = bytes.count / recordSize
        let remainder = bytes.count % recordSize
        if remainder != 0 {
            // A partial record at the end: the file was cut short (or is not a batch of this variant at all).
            throw .truncated(path: path, expectedBytes: (count + 1) * recordSize, actualBytes: bytes.count)
        }
        let statistics = try normalization.perChannel(channels, path: path)

        var labels = [Int](repeating: 0, count: count)
        var bad: (index: Int, label: Int, classes: Int)? = nil
        bytes.withUnsafeBufferPointer { source in
            for i in 0..<count {
                let record = i * recordSize
                if variant == .cifar100 && Int(source[record]) >= 20 && bad == nil {
                    bad = (i, Int(source[record]), 20)  // the coarse label must be valid too
                }
                let label = Int(source[record + variant.labelBytes - 1])
                labels[i] = label
                if label >= variant.classCount && bad == nil { bad = (i, label, variant.classCount) }
            }
        }
        if let bad { throw .labelOutOfRange(path: path, index: bad.index, label: bad.label, classCount: bad.classes) }

        let images = DatasetImages(
            pixels: bytes, offset: variant.labelBytes, recordStride: recordSize, count: count, channels: channels,
            height: side, width: side, mean: statistics.mean, std: statistics.std)
        return (images, labels)
    }
}
