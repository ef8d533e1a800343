import Data
import Foundation
import NN
import Unlearning

/// `manifest.json` of a reference directory (`lethe audit prepare`): what the K reference models depend on —
/// the dataset's content hash, the recipe, the architecture, the split whose training samples they halve, the
/// membership seed — and each reference's file hash. References depend on nothing else, so any audit of a
/// model trained that way reuses them.
public struct ReferenceManifest: Sendable, Codable, Equatable {
    public static let fileName = "manifest.json"
    public static let currentFormat = "lethe-audit-references/1"

    public struct DatasetIdentity: Sendable, Codable, Equatable {
        public let name: String
        /// sha256 of the training set as a Lethe dataset blob (images and labels).
        public let sha256: String
        public let samples: Int

        public init(name: String, sha256: String, samples: Int) {
            self.name = name
            self.sha256 = sha256
            self.samples = samples
        }
    }

    public struct Entry: Sendable, Codable, Equatable {
        public let file: String
        public let sha256: String
        /// The recipe's seed for this reference (initialisation, shuffling), derived from the audit seed.
        public let trainingSeed: UInt64
        /// How many training samples it trained on, and the sha256 of their indices (ascending, one per line),
        /// so that the membership regenerated from `seed` is checked against the one used.
        public let members: Int
        public let membersSha256: String

        public init(file: String, sha256: String, trainingSeed: UInt64, members: Int, membersSha256: String) {
            self.file = file
            self.sha256 = sha256
            self.trainingSeed = trainingSeed
            self.members = members
            self.membersSha256 = membersSha256
        }
    }

    public var format = currentFormat
    public let dataset: DatasetIdentity
    public let architecture: String
    public let recipe: TrainingRecipe
    public let split: TrainingSplit
    /// Seed of the membership matrix: every sample of the split's training pool is IN ⌊K/2⌋ references
    /// (`ReferenceMembership`).
    public let seed: UInt64
    public let references: Int
    public var entries: [Entry]

    public init(
        dataset: DatasetIdentity, architecture: String, recipe: TrainingRecipe, split: TrainingSplit, seed: UInt64,
        references: Int, entries: [Entry]
    ) {
        self.dataset = dataset
        self.architecture = architecture
        self.recipe = recipe
        self.split = split
        self.seed = seed
        self.references = references
        self.entries = entries
    }

    public func membership(pool: [Int]) -> ReferenceMembership {
        ReferenceMembership(pool: pool, references: references, seed: seed)
    }

    public static func url(in directory: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent(fileName)
    }

    /// The manifest in `directory`, or nil when it has none.
    public static func read(from directory: String) throws -> ReferenceManifest? {
        let url = url(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let manifest = try JSONDecoder.snakeCase.decode(ReferenceManifest.self, from: Data(contentsOf: url))
            guard manifest.format == currentFormat else {
                throw ReferenceSetError.unreadable(url.path, "format \(manifest.format), expected \(currentFormat)")
            }
            return manifest
        } catch let error as ReferenceSetError {
            throw error
        } catch {
            throw ReferenceSetError.unreadable(url.path, "\(error)")
        }
    }

    /// Written beside and renamed into place, so an interrupted `prepare` leaves the last complete manifest.
    public func write(to directory: String) throws {
        let url = Self.url(in: directory)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(Self.fileName).partial")
        try JSONEncoder.sorted.encode(self).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    /// Refuses references that were trained for another dataset, recipe, architecture or split (`what` names the
    /// model they are compared with).
    public func checkMatches(
        dataset: DatasetIdentity, architecture: String, recipe: TrainingRecipe?, split: TrainingSplit,
        directory: String, what: String
    ) throws {
        if dataset.sha256 != self.dataset.sha256 {
            throw ReferenceSetError.mismatch(
                directory, "dataset", expected: "\(dataset.name) (sha256 \(dataset.sha256.prefix(12)))",
                found: "\(self.dataset.name) (sha256 \(self.dataset.sha256.prefix(12)))", what: what)
        }
        if architecture != self.architecture {
            throw ReferenceSetError.mismatch(
                directory, "architecture", expected: architecture, found: self.architecture, what: what)
        }
        // The original's own seed does not matter: every reference has its own (`Entry.trainingSeed`).
        if let recipe, Self.unseeded(recipe) != Self.unseeded(self.recipe) {
            throw ReferenceSetError.mismatch(
                directory, "recipe", expected: Self.describe(recipe), found: Self.describe(self.recipe), what: what)
        }
        if split != self.split {
            throw ReferenceSetError.mismatch(
                directory, "training split", expected: Self.describe(split), found: Self.describe(self.split),
                what: what)
        }
    }

    public static func unseeded(_ recipe: TrainingRecipe) -> TrainingRecipe {
        var recipe = recipe
        recipe.seed = 0
        return recipe
    }

    public static func describe(_ value: some Encodable) -> String {
        let encoder = JSONEncoder.sorted
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "?"
    }

    public static func identity(of train: Dataset) throws -> DatasetIdentity {
        DatasetIdentity(
            name: train.name, sha256: try DatasetBlob.sha256(train), samples: train.count)
    }

    public static func membersSha256(_ members: [Int]) -> String {
        sha256Hex(Data(members.map { "\($0)\n" }.joined().utf8))
    }
}

/// Why a reference directory cannot be used (exit 2).
public enum ReferenceSetError: Error, CustomStringConvertible {
    /// No references: what to run to make them.
    case missing(directory: String?, command: String)
    case mismatch(String, String, expected: String, found: String, what: String)
    case differentSettings(String, String)
    case tampered(String, expected: String, found: String)
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .missing(let directory, let command):
            let which = directory.map { "\($0) holds no reference models" } ?? "the audit needs reference models"
            return "\(which); train them once (they are reused by every audit of models trained this way) with:\n  "
                + command
        case .mismatch(let directory, let field, let expected, let found, let what):
            return "the references in \(directory) were trained with another \(field) than \(what): "
                + "\(found) there, \(expected) here. Prepare references for this model in another directory "
                + "(lethe audit prepare … --out DIR)."
        case .differentSettings(let directory, let detail):
            return "\(directory) already holds references with other settings (\(detail)); use another --out"
        case .tampered(let file, let expected, let found):
            return "\(file) does not match its manifest (sha256 \(found), manifest \(expected)); prepare again"
        case .unreadable(let path, let detail):
            return "cannot read the reference manifest \(path): \(detail)"
        }
    }
}
