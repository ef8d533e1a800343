import Checkpoint
import Data
import Foundation
import NN
import Tensor

/// A dataset as a blob: a safetensors file with "images" [N, C, H, W] and "labels" [N] (float32, exact for
/// class indices), for a regression dataset also "targets" [N, K], and its name and class count in the metadata.
/// Workers cache it by hash.
public enum DatasetBlob {
    public static func encode(_ dataset: Dataset) throws -> Data {
        try file(dataset).serialized()
    }

    /// Hands the bytes of `encode(dataset)` to `consume` a piece at a time (the float32 tensors in place), without
    /// the blob in memory.
    public static func stream(_ dataset: Dataset, _ consume: (UnsafeRawBufferPointer) -> Void) throws {
        try file(dataset).streamed(consume)
    }

    /// The hex SHA-256 of `encode(dataset)`, hashed as it is encoded (without the blob in memory).
    public static func sha256(_ dataset: Dataset) throws -> String {
        try sha256Hex { try stream(dataset, $0) }
    }

    private static func file(_ dataset: Dataset) -> SafetensorsFile {
        var tensors = [
            (name: "images", tensor: dataset.images),
            (name: "labels", tensor: Tensor(shape: [dataset.count], scalars: dataset.labels.map(Float.init))),
        ]
        if let targets = dataset.targets { tensors.append((name: "targets", tensor: targets)) }
        return SafetensorsFile(
            tensors: tensors, metadata: ["name": dataset.name, "class_count": String(dataset.classCount)])
    }

    public static func decode(_ data: Data) throws -> Dataset {
        let file = try SafetensorsFile(data: data)
        guard let images = file.entry(named: "images")?.tensor, images.rank == 4,
            let labels = file.entry(named: "labels")?.tensor, labels.shape == [images.shape[0]],
            let classCount = file.metadata["class_count"].flatMap(Int.init), classCount > 0
        else { throw DatasetBlobError("not a Lethe dataset blob (images [N,C,H,W], labels [N], class_count)") }
        let classes = labels.scalars.map { Int(exactly: $0) ?? -1 }
        guard classes.allSatisfy({ (0..<classCount).contains($0) }) else {
            throw DatasetBlobError("a label is not a class index below \(classCount)")
        }
        let targets = file.entry(named: "targets")?.tensor
        if let targets {
            guard targets.rank == 2, targets.shape[0] == images.shape[0], targets.scalars.allSatisfy(\.isFinite) else {
                throw DatasetBlobError("regression targets must be [N, K] finite values for the N images")
            }
        }
        return Dataset(
            name: file.metadata["name"] ?? "dataset", images: images, labels: classes, classCount: classCount,
            targets: targets)
    }
}

public struct DatasetBlobError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
