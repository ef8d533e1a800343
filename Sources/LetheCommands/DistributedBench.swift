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
    @Option(help: "Steps measured (after 2 warm-up steps) per round.") var steps = 20
    @Option(help: "Rounds, each measuring in process then on the workers; the median round counts.")
    var rounds = 5

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

        let localExecutor = LocalExecutor(dataset: dataset, shards: shards, original: model) {
            try! ModelSpec.build(modelOptions.model, seed: $0)
        }
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
        // Rounds alternate the two executors, so a machine whose speed drifts (shared cores) weighs on both
        // alike; the median round's ratio is the overhead. Bytes are counted from the third step on (warm-up
        // steps move the dataset and model blobs).
        var (localSeconds, remoteSeconds, bytes, sameBits) = ([Double](), [Double](), 0, true)
        for _ in 0..<max(rounds, 1) {
            let local = try measure(localExecutor)
            let job = Handoff {
                var before = 0
                let result = try measure(executor) { before = pool.bytesMoved }
                return (result, pool.bytesMoved - before)
            }
            let (remote, moved) = try await DedicatedThread.run(name: "bench") { try job.value() }
            localSeconds.append(local.seconds)
            remoteSeconds.append(remote.seconds)
            bytes = moved
            sameBits = sameBits && local.weights == remote.weights
        }
        let ratios = zip(remoteSeconds, localSeconds).map { $0 / $1 - 1 }
        let report = DistributedBenchReport(
            model: model.architecture, batchSize: batchSize, workers: workers, shards: shards, steps: steps,
            rounds: ratios.count, blas: BLAS.kernelIdentity, localStepMs: 1000 * median(localSeconds),
            remoteStepMs: 1000 * median(remoteSeconds), overhead: median(ratios), overheadPerRound: ratios,
            parameterBytes: model.stateDict().reduce(0) { $0 + 4 * $1.tensor.count },
            bytesPerStep: bytes / steps, sameBits: sameBits)
        switch output.format {
        case .json: try printJSONLine(report)
        case .text:
            print(
                String(
                    format:
                        "%@, batch %d, %d shards, median of %d rounds: in process %.1f ms/step, %d loopback workers %.1f ms/step (%+.0f%%), %.2f MB/step, same bits: %@",
                    report.model, batchSize, shards, report.rounds, report.localStepMs, workers, report.remoteStepMs,
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
    let rounds: Int
    let blas: String
    /// The reference measured in the same run: the same steps with the in-process executor.
    let localStepMs: Double
    let remoteStepMs: Double
    /// The median round's remote ÷ local − 1.
    let overhead: Double
    let overheadPerRound: [Double]
    let parameterBytes: Int
    let bytesPerStep: Int
    let sameBits: Bool
}

/// The middle value (the mean of the two middle ones for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
