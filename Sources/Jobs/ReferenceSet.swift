import Checkpoint
import Foundation
import NN
import Unlearning

/// The reference models of a membership audit and where their files are: a directory written by
/// `lethe audit prepare`, or a coordinator's blob store (a job's references travel as blobs, each named by the
/// sha256 its manifest entry records).
public struct ReferenceSet {
    public let manifest: ReferenceManifest
    /// How the user named the references (the directory as given); reports and refusals say it.
    public let name: String
    private let location: (ReferenceManifest.Entry) -> URL

    public init(manifest: ReferenceManifest, name: String, location: @escaping (ReferenceManifest.Entry) -> URL) {
        self.manifest = manifest
        self.name = name
        self.location = location
    }

    /// The references in `directory`; when there are none (or it is not given, or some are not trained yet),
    /// says to run `command` to make them.
    public static func directory(_ directory: String?, command: String) throws -> ReferenceSet {
        guard let directory, let manifest = try ReferenceManifest.read(from: directory) else {
            throw ReferenceSetError.missing(directory: directory, command: command)
        }
        try manifest.checkComplete(name: directory, command: command)
        return ReferenceSet(manifest: manifest, name: directory) {
            URL(fileURLWithPath: directory).appendingPathComponent($0.file)
        }
    }

    /// What to run to make references for `original`.
    public static func prepareCommand(original: String?, model: String, data: String, out: String?) -> String {
        [
            "lethe audit prepare", "--weights \(original ?? "ORIGINAL.safetensors")", "--model \(model)",
            "--data \(data)", "--references 16", "--seed 1", "--out \(out ?? "references/")",
        ].joined(separator: " ")
    }

    /// Where a reference's file is.
    public func url(of entry: ReferenceManifest.Entry) -> URL { location(entry) }

    /// Loads each reference after checking its file and membership hashes against the manifest.
    func forEach(
        membership: ReferenceMembership, build: () -> Model, _ body: (Int, Model) throws -> Void
    ) throws {
        for (k, entry) in manifest.entries.enumerated() {
            let url = url(of: entry)
            let sha = try sha256Hex(contentsOf: url)
            guard sha == entry.sha256 else {
                throw ReferenceSetError.tampered(url.path, expected: entry.sha256, found: sha)
            }
            guard ReferenceManifest.membersSha256(membership.members(of: k)) == entry.membersSha256 else {
                throw ReferenceSetError.tampered(
                    "the membership of \(entry.file)", expected: entry.membersSha256, found: "regenerated differently")
            }
            let model = build()
            _ = try ModelCheckpoint.load(url, into: model)
            try body(k, model)
        }
    }
}

extension ReferenceManifest {
    /// Refuses a manifest without every one of its references trained (`command` makes them).
    public func checkComplete(name: String, command: String) throws {
        guard !entries.isEmpty else { throw ReferenceSetError.missing(directory: name, command: command) }
        guard entries.count == references else {
            throw ReferenceSetError.missing(
                directory: name + " (only \(entries.count) of \(references) are trained)", command: command)
        }
    }
}
