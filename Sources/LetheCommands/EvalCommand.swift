import ArgumentParser
import Data
import Foundation
import Jobs
import NN
import Unlearning

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a checkpoint: accuracy, loss and per-class accuracy.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions

    @Option(help: "Weights to evaluate (safetensors, PyTorch parameter names).") var weights: String
    @Option(help: "Which split: test or train.") var split: Split = .test
    @Option(help: "Samples per forward pass.") var batchSize = 250

    func validate() throws {
        if !(1...UnlearningLimits.batchSize).contains(batchSize) {
            throw ValidationError("--batch-size must be between 1 and \(UnlearningLimits.batchSize)")
        }
    }

    func run() async throws {
        compute.apply()
        let (model, metadata) = try modelOptions.loadWithMetadata(weights: weights)
        let preprocessing = try dataOptions.preprocessing(for: metadata, weights: weights)
        let dataset = try dataOptions.load(split, preprocessing)
        try checkCompatible(model, dataset)
        let evaluation = Evaluator.evaluate(model, on: dataset, batchSize: batchSize, progress: ProgressBar().handler)
        switch output.format {
        case .json:
            try printJSON(
                EvalReport(
                    model: model.architecture, weights: weights, data: dataset.name, split: split.rawValue,
                    preprocessing: preprocessing, evaluation: evaluation))
        case .text:
            print(
                String(
                    format: "%@ on %@ (%@): accuracy %.2f%%, loss %.4f, %d samples",
                    model.architecture, dataset.name, split.rawValue, 100 * evaluation.accuracy, evaluation.loss,
                    evaluation.samples))
            print("  \(preprocessing.summary)")
            for (label, accuracy) in evaluation.perClassAccuracy.enumerated() {
                let text = accuracy.map { String(format: "%6.2f%%", 100 * $0) } ?? "     –"
                print(String(format: "  class %2d  %@  (%d samples)", label, text, evaluation.perClassSamples[label]))
            }
        }
    }
}

extension Split: ExpressibleByArgument {}

struct EvalReport: Encodable {
    let model: String
    let weights: String
    let data: String
    let split: String
    let preprocessing: Preprocessing
    let evaluation: Evaluation

    enum Keys: String, CodingKey {
        case model, weights, data, split, preprocessing, accuracy, loss, samples
        case perClassAccuracy = "per_class_accuracy"
        case perClassSamples = "per_class_samples"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(model, forKey: .model)
        try container.encode(weights, forKey: .weights)
        try container.encode(data, forKey: .data)
        try container.encode(split, forKey: .split)
        try container.encode(preprocessing, forKey: .preprocessing)
        try container.encode(evaluation.accuracy, forKey: .accuracy)
        try container.encode(evaluation.loss, forKey: .loss)
        try container.encode(evaluation.samples, forKey: .samples)
        try container.encode(evaluation.perClassAccuracy, forKey: .perClassAccuracy)
        try container.encode(evaluation.perClassSamples, forKey: .perClassSamples)
    }
}
