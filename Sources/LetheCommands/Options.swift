import ArgumentParser
import Checkpoint
import Data
import Foundation
import Jobs
import NN
import Tensor

/// `--model`, shared by every command that builds a network.
struct ModelOptions: ParsableArguments {
    @Option(
        help:
            "Architecture: fmnist-cnn, fmnist-mlp, resnet18[:width=W,classes=K,channels=C,size=S], a .json file or a .onnx graph (torch.onnx.export)."
    )
    var model = "fmnist-cnn"

    /// The architecture with the weights of a checkpoint, refusing one that does not fit.
    func load(weights path: String) throws -> Model { try loadWithMetadata(weights: path).model }

    /// The model and the checkpoint's metadata; what loading filled in is said on the console.
    func loadWithMetadata(weights path: String) throws -> (model: Model, metadata: [String: String]) {
        let model = try ModelSpec.build(self.model, seed: 0)
        let checkpoint = try ModelCheckpoint.read(URL(fileURLWithPath: path), into: model)
        for note in checkpoint.notes { log("note: \(note)") }
        return (model, checkpoint.metadata)
    }

    /// The architecture at a seeded initialisation (the spec was checked when the model was loaded).
    func build(seed: UInt64) -> Model { try! ModelSpec.build(model, seed: seed) }
}

/// `--data` and `--normalize`, shared by every command that reads a dataset.
struct DataOptions: ParsableArguments {
    @Option(help: "Dataset: fashion-mnist, mnist, or a directory of IDX, CIFAR binary or .npy files.")
    var data = "fashion-mnist"

    @Option(
        help: ArgumentHelp(
            "Input normalisation: MEANS/STDS per channel (e.g. 0.4914,0.4822,0.4465/0.247,0.243,0.261), MEAN,STD, or none (pixels in [0, 1], as ToTensor() gives them).",
            discussion:
                "Default: what the checkpoint records (lethe train records it), else the dataset's default, said on the console and in the report. A value that disagrees with the checkpoint's is refused.",
            valueName: "MEANS/STDS|none"))
    var normalize: String?

    /// `--normalize` as statistics (nil when not given).
    var normalization: Normalization? {
        get throws {
            do {
                return try normalize.map { try Normalization(text: $0) }
            } catch {
                throw ValidationError("--normalize: \(error)")
            }
        }
    }

    func validate() throws { _ = try normalization }

    /// The preprocessing for a checkpoint with `metadata` (named `weights`) on this data, said on the console when
    /// it is assumed.
    func preprocessing(for metadata: [String: String], weights: String) throws -> Preprocessing {
        let preprocessing = try Preprocessing.resolve(
            option: normalization, metadata: metadata, checkpoint: weights, data: data)
        if let note = preprocessing.note { log("note: \(note)") }
        return preprocessing
    }

    /// One split of the data, preprocessed as `preprocessing` says.
    func load(_ split: Split, _ preprocessing: Preprocessing) throws -> Dataset {
        try DatasetLoader.load(data, split: split, normalization: preprocessing.normalization)
    }
}

/// `--threads`, shared by every command that computes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and Lethe's own kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
    }

    func apply() { Parallel.configure(threads: threads) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// `--format`, shared by every command that reports something.
struct FormatOptions: ParsableArguments {
    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text
}

/// Where a command that fetches a finished job writes its reports (`lethe result`, `lethe forget-client`).
struct ReportFileOptions: ParsableArguments {
    @Option(help: "Write the JSON report here.") var report: String?
    @Option(help: "Write the HTML report here.") var html: String?
    @Option(help: "Write the job's signed certificate here (a coordinator with a signing key certifies passed jobs).")
    var certificate: String?

    func validate() throws {
        try checkWritable(report, option: "--report")
        try checkWritable(html, option: "--html")
        try checkWritable(certificate, option: "--certificate")
    }
}

/// Parses "0,6" into class numbers.
func parseClassList(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let classes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard classes.count == parts.count, !classes.isEmpty, classes.allSatisfy({ $0 >= 0 }) else {
        throw ValidationError("\(option) expects class numbers separated by commas, like 0,6 (got '\(text)')")
    }
    return classes
}
