import ArgumentParser
import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning

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
    @Option(help: "The reference directory (manifest.json and reference-NN.safetensors).") var out: String
    @OptionGroup var recipeOptions: RecipeOptions

    func validate() throws {
        guard (2...256).contains(references) else { throw ValidationError("--references must be between 2 and 256") }
    }

    func run() async throws {
        compute.apply()
        let (original, metadata) = try modelOptions.loadWithMetadata(weights: weights)
        let trueTrain = try DatasetLoader.load(dataOptions.data, split: .train)
        try checkCompatible(original, trueTrain)
        let recipe = try recipeOptions.recipe(recorded: metadata["lethe.recipe"], weights: weights)
        let split = try recipeOptions.split(recorded: metadata["lethe.split"], weights: weights)
        if let problem = split.problem(in: trueTrain) { throw ValidationError(problem) }
        let dataset = try ReferenceManifest.identity(of: trueTrain)
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
        let train = split.applying(to: trueTrain)
        let membership = manifest.membership(pool: pool)
        var (trained, reused) = (0, 0)
        let start = Date()
        for reference in 0..<references {
            let file = String(format: "reference-%02d.safetensors", reference)
            let url = URL(fileURLWithPath: out).appendingPathComponent(file)
            let members = membership.members(of: reference)
            if let entry = manifest.entries.first(where: { $0.file == file }),
                entry.membersSha256 == ReferenceManifest.membersSha256(members),
                (try? BlobStore.sha256(contentsOf: url)) == entry.sha256
            {
                reused += 1
                continue
            }
            var referenceRecipe = recipe
            var generator = SeededGenerator(seed: seed, stream: "reference-\(reference)")
            referenceRecipe.seed = generator.next()
            log("reference \(reference + 1)/\(references): training on \(members.count) of \(pool.count) samples")
            let model = modelOptions.build(seed: referenceRecipe.seed)
            let trainer = Trainer(model: model, recipe: referenceRecipe)
            trainer.progress = ProgressBar().handler
            _ = try trainer.fit(train, indices: members)
            let recipeJSON = String(decoding: try JSONEncoder.sorted.encode(referenceRecipe), as: UTF8.self)
            try ModelCheckpoint.save(
                model, to: url,
                metadata: [
                    "lethe.recipe": recipeJSON, "lethe.dataset": train.name, "lethe.samples": "\(members.count)",
                    "lethe.audit.reference": "\(reference) of \(references), seed \(seed)",
                    "lethe.blas": BLASInfo.current.kernelIdentity,
                ])
            let entry = ReferenceManifest.Entry(
                file: file, sha256: try BlobStore.sha256(contentsOf: url), trainingSeed: referenceRecipe.seed,
                members: members.count, membersSha256: ReferenceManifest.membersSha256(members))
            manifest.entries.removeAll { $0.file == file }
            manifest.entries.append(entry)
            manifest.entries.sort { $0.file < $1.file }
            try manifest.write(to: out)
            trained += 1
        }
        try manifest.write(to: out)
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
