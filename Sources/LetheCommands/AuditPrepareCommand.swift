import ArgumentParser
import Checkpoint
import Coordinator
import Data
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning
import Wire

/// `lethe audit prepare`: trains the K reference models of the per-example audit with the original's recipe,
/// each on a seeded half of its training samples, and records them in a manifest. An existing directory with the
/// same dataset, recipe, architecture, split, seed and K is reused (missing or changed references are trained
/// again); one prepared for anything else is refused.
struct AuditPrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Train the reference models of the membership audit (once per dataset, recipe and seed).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(help: "The original model, whose recorded recipe and split the references repeat.") var weights: String
    @Option(help: "How many reference models (each sample is IN half of them; LiRA uses 16 to 256).")
    var references = 16
    @Option(help: "Seed of the membership halves and of each reference's initialisation.") var seed: UInt64 = 1
    @Option(
        help:
            "The reference directory (manifest.json and reference-NN.safetensors); default: the cache's entry for --weights. Either way lethe unlearn and lethe audit of --weights find them without --references ($LETHE_CACHE_DIR, else $XDG_CACHE_HOME/lethe or ~/.cache/lethe)."
    )
    var out: String?
    @OptionGroup var recipeOptions: RecipeOptions
    @OptionGroup(title: "Training on a coordinator (with --coordinator: each reference is a job for its workers)")
    var cluster: ClusterOptions

    func validate() throws {
        guard (2...256).contains(references) else { throw ValidationError("--references must be between 2 and 256") }
    }

    func run() async throws {
        compute.apply()
        let (original, metadata) = try modelOptions.loadWithMetadata(weights: weights)
        let trueTrain = try dataOptions.load(.train, dataOptions.preprocessing(for: metadata, weights: weights))
        try checkCompatible(original, trueTrain)
        let recipe = try recipeOptions.recipe(recorded: metadata["lethe.recipe"], weights: weights)
        let split = try recipeOptions.split(recorded: metadata["lethe.split"], weights: weights)
        if let problem = split.problem(in: trueTrain) { throw ValidationError(problem) }
        let dataset = try ReferenceManifest.identity(of: trueTrain)
        let (cache, originalSha256) = (
            CacheDirectory(), try BlobStore.sha256(contentsOf: URL(fileURLWithPath: weights))
        )
        let out = self.out ?? cache.entry(original: originalSha256).path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var manifest = ReferenceManifest(
            dataset: dataset, architecture: original.architecture, recipe: recipe, split: split, seed: seed,
            references: references, entries: [])
        if let existing = try ReferenceManifest.read(from: out) {
            try existing.checkMatches(
                dataset: dataset, architecture: original.architecture, recipe: recipe, split: split, directory: out,
                what: weights)
            guard existing.seed == seed, existing.references == references else {
                throw ReferenceSetError.differentSettings(
                    out, "--references \(existing.references) --seed \(existing.seed)")
            }
            manifest.entries = existing.entries
        }
        let pool = split.trainingIndices(in: trueTrain)
        let membership = manifest.membership(pool: pool)
        let start = Date()
        // Reused: a file whose hash and members match its manifest entry.
        // A graph is named by content (`onnx:<sha256>`), as the coordinator and its workers name it.
        let architecture = modelOptions.model.hasSuffix(".onnx") ? original.architecture : modelOptions.model
        let missing = (0..<references).map {
            ReferenceTraining(
                architecture: architecture, recipe: recipe, split: split, seed: seed, references: references,
                index: $0)
        }.filter { training in
            let url = URL(fileURLWithPath: out).appendingPathComponent(training.file)
            guard let entry = manifest.entries.first(where: { $0.file == training.file }) else { return true }
            return entry.membersSha256 != ReferenceManifest.membersSha256(membership.members(of: training.index))
                || (try? BlobStore.sha256(contentsOf: url)) != entry.sha256
        }
        let record = { (training: ReferenceTraining) throws in
            let url = URL(fileURLWithPath: out).appendingPathComponent(training.file)
            let members = membership.members(of: training.index)
            manifest.entries.removeAll { $0.file == training.file }
            manifest.entries.append(
                ReferenceManifest.Entry(
                    file: training.file, sha256: try BlobStore.sha256(contentsOf: url),
                    trainingSeed: training.referenceRecipe.seed, members: members.count,
                    membersSha256: ReferenceManifest.membersSha256(members)))
            manifest.entries.sort { $0.file < $1.file }
            try manifest.write(to: out)
        }
        if cluster.coordinator != nil {
            try await trainOnCoordinator(missing, trainingSet: trueTrain, into: out, record: record)
        } else {
            for training in missing {
                log(
                    "reference \(training.index + 1)/\(references): training on \(training.members(of: trueTrain).count) of \(pool.count) samples"
                )
                _ = try training.train(
                    on: trueTrain, to: URL(fileURLWithPath: out).appendingPathComponent(training.file),
                    progress: ProgressBar().handler)
                try record(training)
            }
        }
        let (trained, reused) = (missing.count, references - missing.count)
        try manifest.write(to: out)
        cache.register(out, original: originalSha256)
        let report = PrepareReport(
            out: out, references: references, seed: seed, trained: trained, reused: reused,
            seconds: Date().timeIntervalSince(start), dataset: dataset, recipe: recipe)
        switch output.format {
        case .json: try printJSON(report)
        case .text:
            print(
                "\(out): \(references) references (\(trained) trained, \(reused) reused) in "
                    + String(format: "%.1fs", report.seconds))
        }
    }

    /// Submits one `audit-reference` job per reference (they spread over the coordinator's workers and train the
    /// same bits as here), then fetches each one as it succeeds.
    private func trainOnCoordinator(
        _ missing: [ReferenceTraining], trainingSet: Dataset, into out: String,
        record: (ReferenceTraining) throws -> Void
    ) async throws {
        guard !missing.isEmpty else { return }
        let client = try cluster.connect()
        defer { client.close() }
        let trainSHA256 = try await client.upload(DatasetBlob.encode(trainingSet), kind: "dataset")
        _ = try await modelOptions.architecture(uploadingWith: client)  // a .onnx graph travels as a blob
        var jobs: [(training: ReferenceTraining, id: String)] = []
        for training in missing {
            var spec = JobSpec(
                method: "train", params: [:], architecture: training.architecture, weightsSHA256: "",
                trainSHA256: trainSHA256, testSHA256: "",
                scenarioSHA256: try await client.upload(JSONEncoder.sorted.encode(training), kind: "reference"),
                seed: training.seed, shards: training.referenceRecipe.shards, referenceSHA256: nil,
                weightsName: training.file,
                forget: "audit reference \(training.index + 1) of \(training.references) (seed \(training.seed))")
            spec.kind = JobKind.auditReference
            guard case .jobAccepted(let id) = try await client.request(.jobSubmit(spec)) else {
                throw ControlError.unexpectedReply
            }
            log("reference \(training.index + 1)/\(training.references): job \(id)")
            jobs.append((training, id))
        }
        for (training, id) in jobs {
            let status = try await finished(id, on: client)
            guard status.state == .succeeded else {
                throw ValidationError("\(id) (reference \(training.index + 1)) \(status.state): \(status.message)")
            }
            guard case .jobResult(let outputs) = try await client.request(.jobResultRequest(id: id)) else {
                throw ControlError.unexpectedReply
            }
            try await client.download(outputs.weightsSHA256)
                .write(to: URL(fileURLWithPath: out).appendingPathComponent(training.file))
            try record(training)
        }
    }
}

struct PrepareReport: Encodable {
    let out: String
    let references: Int
    let seed: UInt64
    let trained: Int
    let reused: Int
    let seconds: Double
    let dataset: ReferenceManifest.DatasetIdentity
    let recipe: TrainingRecipe
}

/// `lethe train`'s recipe flags, for checkpoints that do not record their recipe (e.g. trained in PyTorch).
struct RecipeOptions: ParsableArguments {
    @Option(help: "Epochs (only for checkpoints that do not record their recipe).") var epochs: Int?
    @Option(help: "Minibatch size (idem).") var batchSize: Int?
    @Option(name: .customLong("lr"), help: "Learning rate (idem).") var learningRate: Float?
    @Option(help: "SGD momentum (idem).") var momentum: Float?
    @Option(help: "L2 weight decay (idem).") var weightDecay: Float?
    @Option(help: "Decay the learning rate ×0.1 at these epochs (idem).") var decayEpochs: String?
    @Option(help: "Validation fraction the original held out (only for checkpoints that do not record their split).")
    var validationFraction: Double?

    private var givenRecipeFlags: [String] {
        [
            epochs.map { _ in "--epochs" }, batchSize.map { _ in "--batch-size" }, learningRate.map { _ in "--lr" },
            momentum.map { _ in "--momentum" }, weightDecay.map { _ in "--weight-decay" },
            decayEpochs.map { _ in "--decay-epochs" },
        ].compactMap { $0 }
    }

    /// The recorded recipe, or the default one changed by the flags; flags on a recorded recipe are refused.
    func recipe(recorded: String?, weights: String) throws -> TrainingRecipe {
        if let recorded {
            guard givenRecipeFlags.isEmpty else {
                throw ValidationError(
                    "\(weights) records its recipe; drop \(givenRecipeFlags.joined(separator: ", ")) (the references repeat it)"
                )
            }
            return try JSONDecoder.snakeCase.decode(TrainingRecipe.self, from: Data(recorded.utf8))
        }
        var recipe = TrainingRecipe()
        if let epochs { recipe.epochs = epochs }
        if let batchSize { recipe.batchSize = batchSize }
        if let learningRate { recipe.learningRate = learningRate }
        if let momentum { recipe.momentum = momentum }
        if let weightDecay { recipe.weightDecay = weightDecay }
        if let decayEpochs { recipe.decayEpochs = try parseClassList(decayEpochs, option: "--decay-epochs") }
        if let problem = recipe.problem { throw ValidationError(problem) }
        return recipe
    }

    func split(recorded: String?, weights: String) throws -> TrainingSplit {
        guard let recorded else { return TrainingSplit(validationFraction: validationFraction ?? 0) }
        guard validationFraction == nil else {
            throw ValidationError("\(weights) records its split; drop --validation-fraction")
        }
        return try JSONDecoder.snakeCase.decode(TrainingSplit.self, from: Data(recorded.utf8))
    }
}
