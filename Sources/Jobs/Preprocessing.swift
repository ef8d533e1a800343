import Data

/// The preprocessing a model's inputs get and where it came from: resolved the same way by every command that loads
/// data for a checkpoint, recorded by `lethe train`, and said in every report.
///
/// `lethe train` records a normalisation other than the dataset's default in the checkpoint's metadata
/// (`lethe.normalization`, in `--normalize`'s form); a checkpoint trained with the default records nothing, so it
/// keeps the bits it always had. Reading a checkpoint:
/// - one that records a normalisation gets it; a `--normalize` that disagrees is refused, naming both;
/// - one Lethe trained (it records its recipe) without a record was trained with the dataset's default, and gets it
///   (a disagreeing `--normalize` is refused the same way);
/// - any other (e.g. from PyTorch) gets `--normalize`, or else the dataset's default, *assumed*: the console and
///   the report say so.
public struct Preprocessing: Codable, Equatable, Sendable {
    /// Where the normalisation came from.
    public enum Source: String, Codable, Sendable {
        /// `--normalize`, for training or for a checkpoint that records none.
        case option
        /// Recorded in the checkpoint's metadata.
        case checkpoint
        /// The dataset's default, which a checkpoint `lethe train` wrote without a record was trained with.
        case trainingDefault = "training-default"
        /// The dataset's default, for training without `--normalize`.
        case datasetDefault = "dataset-default"
        /// The dataset's default, assumed for a checkpoint that records nothing about its training.
        case assumedDefault = "assumed-default"
    }

    /// The checkpoint metadata key that records a normalisation.
    public static let metadataKey = "lethe.normalization"

    public let normalization: Normalization
    public let source: Source
    /// What a reader should know: said when the normalisation is assumed (nil otherwise).
    public let note: String?

    public init(normalization: Normalization, source: Source, note: String? = nil) {
        self.normalization = normalization
        self.source = source
        self.note = note
    }

    /// Training's preprocessing (`option`, else the dataset's default) and what the trained checkpoint records: the
    /// normalisation, unless it is the dataset's default, which Lethe's checkpoints imply by recording none (so a
    /// run with the default keeps the bits it always had, however the default was spelled).
    public static func training(option: Normalization?, data: String) throws -> (
        preprocessing: Preprocessing, metadata: [String: String]
    ) {
        let datasetDefault = try DatasetLoader.defaultNormalization(data)
        guard let option else { return (Preprocessing(normalization: datasetDefault, source: .datasetDefault), [:]) }
        let metadata = option.sameStatistics(as: datasetDefault) ? [:] : [metadataKey: option.text]
        return (Preprocessing(normalization: option, source: .option), metadata)
    }

    /// The preprocessing for `checkpoint` (whose metadata is `metadata`) on `data`, with `option` from `--normalize`.
    public static func resolve(
        option: Normalization?, metadata: [String: String], checkpoint: String, data: String
    ) throws -> Preprocessing {
        let datasetDefault = try DatasetLoader.defaultNormalization(data)
        if let recorded = metadata[metadataKey] {
            let normalization: Normalization
            do {
                normalization = try Normalization(text: recorded)
            } catch {
                throw PreprocessingError.unreadableRecord(checkpoint: checkpoint, error: error)
            }
            try check(option, against: normalization, checkpoint: checkpoint, how: "records")
            return Preprocessing(normalization: normalization, source: .checkpoint)
        }
        if metadata["lethe.recipe"] != nil {
            try check(
                option, against: datasetDefault, checkpoint: checkpoint,
                how: "was trained by Lethe with \(data)'s default")
            return Preprocessing(normalization: datasetDefault, source: .trainingDefault)
        }
        if let option { return Preprocessing(normalization: option, source: .option) }
        return Preprocessing(
            normalization: datasetDefault, source: .assumedDefault,
            note:
                "\(checkpoint) records no normalisation: assuming \(data)'s default (\(datasetDefault.text)); "
                + "if the model was trained otherwise, say so with --normalize (none for ToTensor() inputs)")
    }

    /// What a model made from the checkpoint (an unlearned one) records beyond the checkpoint's own metadata: a
    /// `--normalize` given for a checkpoint that recorded nothing about its training.
    public var derivedMetadata: [String: String] {
        source == .option ? [Self.metadataKey: normalization.text] : [:]
    }

    /// One line for the console and the HTML report.
    public var summary: String {
        let value = normalization == .identity ? "none (pixels in [0, 1])" : normalization.text
        return "normalisation \(value), " + (note ?? sourceDescription)
    }

    private var sourceDescription: String {
        switch source {
        case .option: "from --normalize"
        case .checkpoint: "recorded in the checkpoint"
        case .trainingDefault: "the dataset's default, which Lethe trained the checkpoint with"
        case .datasetDefault: "the dataset's default"
        case .assumedDefault: "the dataset's default, assumed"
        }
    }

    private static func check(
        _ option: Normalization?, against expected: Normalization, checkpoint: String, how: String
    ) throws(PreprocessingError) {
        guard let option, !option.sameStatistics(as: expected) else { return }
        throw .disagrees(checkpoint: checkpoint, option: option.text, expected: expected.text, how: how)
    }

    enum CodingKeys: String, CodingKey {
        case normalize, source, note
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        normalization = try Normalization(text: container.decode(String.self, forKey: .normalize))
        source = try container.decode(Source.self, forKey: .source)
        note = try container.decodeIfPresent(String.self, forKey: .note)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(normalization.text, forKey: .normalize)
        try container.encode(source, forKey: .source)
        try container.encodeIfPresent(note, forKey: .note)
    }
}

/// Why the preprocessing for a checkpoint cannot be settled: bad input (exit 2).
public enum PreprocessingError: Error, CustomStringConvertible {
    /// `--normalize` says one thing, the checkpoint another.
    case disagrees(checkpoint: String, option: String, expected: String, how: String)
    /// The checkpoint's `lethe.normalization` does not read.
    case unreadableRecord(checkpoint: String, error: DatasetError)

    public var description: String {
        switch self {
        case .disagrees(let checkpoint, let option, let expected, let how):
            "--normalize \(option) disagrees with \(checkpoint), which \(how) \(expected); "
                + "drop --normalize to use \(expected) (a model sees inputs as it was trained on them)"
        case .unreadableRecord(let checkpoint, let error):
            "\(checkpoint): its \(Preprocessing.metadataKey) does not read: \(error)"
        }
    }
}
