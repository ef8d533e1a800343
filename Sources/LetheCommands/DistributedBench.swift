import ArgumentParser
import Checkpoint
import Cluster
import Data
import Foundation
import NN
import Tensor
import Unlearning

/// Per-step cost of the wire protocol: the same training steps in process and on N workers over loopback TCP.
struct DistributedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Compare per-step time on N loopback workers with the in-process executor, and bytes moved per step.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var output: FormatOptions
    @Option(help: "Workers (threads in this process, behind real loopback sockets).") var workers = 2
    @Option(help: "Logical shards per step (default: one per worker).") var shards: Int?
    @Option(help: "Minibatch size.") var batchSize = 128
    @Option(help: "Steps measured (after 2 warm-up steps).") var steps = 20

    func run() async throws {
        let shards = shards ?? workers
        let model = try ModelSpec.build(modelOptions.model, seed: 1)
        var generator = SeededGenerator(seed: 7)
        let count = batchSize * 4
        let dataset = Dataset(
            name: "bench", images: Tensor.normal(shape: [count] + model.inputShape, using: &generator),
            labels: (0..<count).map { $0 % model.classCount }, classCount: model.classCount)
        let batches = (0..<(steps + 2)).map { step in
            (0..<batchSize).map { (step * batchSize + $0) % count }
        }
        func gradientStep(_ index: Int) -> GradientStep {
            GradientStep(
                parts: [
                    BatchPart(
                        inputs: .samples(batches[index]), labels: batches[index].map { dataset.labels[$0] },
                        losses: [.crossEntropy(weight: 1)])
                ], seed: UInt64(index))
        }
        /// Seconds per measured step, and the final weights' hash; `warm` is called when measuring starts.
        func measure(_ executor: StepExecutor, warm: () -> Void = {}) throws -> (seconds: Double, weights: String) {
            let state = PlanState(student: model.copy(), optimizers: ["sgd": SGD(learningRate: 0.01, momentum: 0.9)])
            var start = Date()
            for index in 0..<(steps + 2) {
                if index == 2 {
                    warm()
                    start = Date()
                }
                _ = try executor.gradient(gradientStep(index), state: state)
                state.optimizer("sgd").update(model: state.student)
            }
            return (Date().timeIntervalSince(start) / Double(steps), WeightsDigest.sha256(state.student))
        }

        let local = try measure(
            LocalExecutor(dataset: dataset, shards: shards, original: model) {
                try! ModelSpec.build(modelOptions.model, seed: $0)
            })
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try EmbeddedCluster(workers: workers, directory: directory, endpoint: "tcp://127.0.0.1:*")
        defer { cluster.stop() }
        let checkpoint = directory.appendingPathComponent("model.safetensors")
        try ModelCheckpoint.save(model, to: checkpoint)
        let executor = RemoteExecutor(
            pool: cluster.pool, job: "bench", shards: shards,
            datasetSHA256: try cluster.blobs.put(DatasetBlob.encode(dataset)), labels: dataset.labels,
            originalSHA256: try cluster.blobs.put(contentsOf: checkpoint), architecture: modelOptions.model)
        let pool = cluster.pool
        // Warm-up steps move the dataset and model blobs; bytes are counted from the third step on.
        let job = Handoff {
            var before = 0
            let result = try measure(executor) { before = pool.bytesMoved }
            return (result, pool.bytesMoved - before)
        }
        let (remote, bytes) = try await DedicatedThread.run(name: "bench") { try job.value() }
        let report = DistributedBenchReport(
            model: model.architecture, batchSize: batchSize, workers: workers, shards: shards, steps: steps,
            blas: BLAS.kernelIdentity, localStepMs: 1000 * local.seconds, remoteStepMs: 1000 * remote.seconds,
            overhead: remote.seconds / local.seconds - 1,
            parameterBytes: model.stateDict().reduce(0) { $0 + 4 * $1.tensor.count },
            bytesPerStep: bytes / steps, sameBits: local.weights == remote.weights)
        switch output.format {
        case .json: try printJSONLine(report)
        case .text:
            print(
                String(
                    format:
                        "%@, batch %d, %d shards: in process %.1f ms/step, %d loopback workers %.1f ms/step (%+.0f%%), %.2f MB/step, same bits: %@",
                    report.model, batchSize, shards, report.localStepMs, workers, report.remoteStepMs,
                    100 * report.overhead, Double(report.bytesPerStep) / 1e6, report.sameBits ? "yes" : "NO"))
        }
    }
}

struct DistributedBenchReport: Encodable {
    let model: String
    let batchSize: Int
    let workers: Int
    let shards: Int
    let steps: Int
    let blas: String
    /// The reference measured in the same run: the same steps with the in-process executor.
    let localStepMs: Double
    let remoteStepMs: Double
    /// remote ÷ local − 1.
    let overhead: Double
    let parameterBytes: Int
    let bytesPerStep: Int
    let sameBits: Bool
}
