import ArgumentParser
import Checkpoint
import Coordinator
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Train a model from its seeded initialisation (the original model, or the retrain baseline with --exclude-*)."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(help: "Epochs over the training set.") var epochs = 5
    @Option(help: "Minibatch size.") var batchSize = 128
    @Option(name: .customLong("lr"), help: "Learning rate (SGD).") var learningRate: Float = 0.01
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "L2 weight decay.") var weightDecay: Float = 5e-4
    @Flag(help: "Use Nesterov momentum.") var nesterov = false
    @Option(help: "Label smoothing for the cross-entropy.") var labelSmoothing: Float = 0
    @Option(help: "Decay the learning rate ×0.1 at these epochs (e.g. 30,60).") var decayEpochs: String?
    @Option(help: "Seed for initialisation, shuffling and dropout.") var seed: UInt64 = 1
    @Option(help: "Logical shards per minibatch (changes the bits of the result, not who computes them).")
    var shards = 1
    @Option(help: "Leave out these classes (the retrain baseline for class forgetting), e.g. 0,6.")
    var excludeClasses: String?
    @Option(help: "Leave out the training indices listed in this file, one per line.")
    var excludeIndices: String?
    @Option(help: "Hold out this stratified fraction of the training set for validation (never trained on).")
    var validationFraction = 0.1
    @Option(help: "Seed of the validation split.") var validationSeed: UInt64 = 0
    @OptionGroup var confusion: ConfusionOptions
    @Option(help: "Where to write the trained weights (safetensors).") var out: String

    var split: TrainingSplit {
        get throws {
            let confusion = try confusion.classesAndCount().map {
                TrainingSplit.Confusion(classes: $0.classes, count: $0.count, seed: seed)
            }
            return TrainingSplit(
                validationFraction: validationFraction, validationSeed: validationSeed, confusion: confusion)
        }
    }

    var recipe: TrainingRecipe {
        get throws {
            var recipe = TrainingRecipe()
            recipe.epochs = epochs
            recipe.batchSize = batchSize
            recipe.learningRate = learningRate
            recipe.momentum = momentum
            recipe.weightDecay = weightDecay
            recipe.nesterov = nesterov
            recipe.labelSmoothing = labelSmoothing
            recipe.decayEpochs = try decayEpochs.map { try parseClassList($0, option: "--decay-epochs") } ?? []
            recipe.seed = seed
            recipe.shards = shards
            return recipe
        }
    }

    func validate() throws {
        if let problem = try recipe.problem { throw ValidationError(problem) }
        try checkWritable(out, option: "--out")
        if !(validationFraction >= 0 && validationFraction < 1) {
            throw ValidationError("--validation-fraction must be in [0, 1)")
        }
    }

    func run() async throws {
        compute.apply()
        let recipe = try recipe
        let model = try ModelSpec.build(modelOptions.model, seed: seed)
        let (preprocessing, preprocessingRecord) = try Preprocessing.training(
            option: dataOptions.normalization, data: dataOptions.data)
        let trueDataset = try dataOptions.load(.train, preprocessing)
        try checkCompatible(model, trueDataset)
        let split = try split
        if let problem = split.problem(in: trueDataset) { throw ValidationError(problem) }
        let dataset = split.applying(to: trueDataset)
        var excluded = Set(split.validationIndices(in: trueDataset))
        if let excludeClasses {
            let classes = try parseClassList(excludeClasses, option: "--exclude-classes")
            excluded.formUnion(try ForgetSelection.classes(classes).resolve(in: trueDataset).forget)
        }
        if let excludeIndices { excluded.formUnion(try readIndexFile(excludeIndices, count: dataset.count)) }
        let indices = (0..<dataset.count).filter { !excluded.contains($0) }
        guard !indices.isEmpty else { throw ValidationError("nothing left to train on after the exclusions") }

        log(
            "training \(model.architecture) (\(model.parameterCount) parameters) on \(indices.count) of \(dataset.count) samples of \(dataset.name), \(preprocessing.summary)"
        )
        let trainer = Trainer(model: model, recipe: recipe)
        trainer.progress = ProgressBar().handler
        let start = Date()
        let epochs = try trainer.fit(dataset, indices: indices)
        let seconds = Date().timeIntervalSince(start)
        let url = URL(fileURLWithPath: out)
        let recipeJSON = String(decoding: try JSONEncoder.sorted.encode(recipe), as: UTF8.self)
        let splitJSON = String(decoding: try JSONEncoder.sorted.encode(split), as: UTF8.self)
        try ModelCheckpoint.save(
            model, to: url,
            metadata: [
                "lethe.recipe": recipeJSON, "lethe.split": splitJSON, "lethe.dataset": dataset.name,
                "lethe.samples": "\(indices.count)",
                "lethe.blas": BLASInfo.current.kernelIdentity,
            ].merging(preprocessingRecord) { _, recorded in recorded })
        let sha = try BlobStore.sha256(contentsOf: url)
        switch output.format {
        case .json:
            try printJSON(
                TrainReport(
                    model: model.architecture, out: out, sha256: sha, samples: indices.count, excluded: excluded.count,
                    seconds: seconds, epochs: epochs, blas: BLASInfo.current, preprocessing: preprocessing))
        case .text:
            for epoch in epochs {
                let head = String(format: "epoch %d  lr %.4g  ", epoch.epoch + 1, epoch.learningRate)
                let fit =
                    epoch.trainAccuracy.map {
                        String(format: "loss %.4f  train accuracy %.2f%%", epoch.meanLoss, 100 * $0)
                    }
                    ?? String(format: "L1 %.4f", epoch.meanLoss)
                print(head + fit + String(format: "  %.1fs", epoch.seconds))
            }
            print("wrote \(out) (sha256 \(sha)) in \(String(format: "%.1f", seconds))s")
        }
    }
}

struct TrainReport: Encodable {
    let model: String
    let out: String
    let sha256: String
    let samples: Int
    let excluded: Int
    let seconds: Double
    let epochs: [EpochReport]
    let blas: BLASInfo
    let preprocessing: Preprocessing
}

/// Reads one training index per line (blank lines and #-comments ignored), checking each is in range.
func readIndexFile(_ path: String, count: Int) throws -> [Int] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw ValidationError("cannot read index file \(path)")
    }
    var indices: [Int] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let trimmed =
            line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
            .trimmingCharacters(in: .whitespaces) ?? ""
        if trimmed.isEmpty { continue }
        guard let index = Int(trimmed), index >= 0, index < count else {
            throw ValidationError("\(path):\(number + 1): '\(trimmed)' is not a training index in 0..<\(count)")
        }
        indices.append(index)
    }
    return indices
}
