import Checkpoint
import Foundation
import Tensor
import Unlearning

/// A `PlanSnapshot` as a blob: a safetensors file of its tensors (sorted by name) with the header as JSON
/// metadata, so a coordinator can persist a running job at barriers and resume it after a crash.
public enum SnapshotBlob {
    public static let headerKey = "lethe.snapshot"

    public static func encode(_ snapshot: PlanSnapshot) throws -> Data {
        let file = SafetensorsFile(
            tensors: snapshot.tensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) },
            metadata: [headerKey: String(decoding: try JSONEncoder().encode(snapshot.header), as: UTF8.self)])
        return try file.serialized()
    }

    public static func decode(_ data: Data) throws -> PlanSnapshot {
        let file = try SafetensorsFile(data: data)
        guard let header = file.metadata[headerKey] else { throw SnapshotMismatch("not a plan snapshot") }
        return PlanSnapshot(
            header: try JSONDecoder().decode(PlanSnapshot.Header.self, from: Data(header.utf8)),
            tensors: Dictionary(uniqueKeysWithValues: file.entries.map { ($0.name, $0.tensor) }))
    }
}
