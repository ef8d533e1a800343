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

/// Per-step cost of the wire protocol: the same training steps in process and on N workers over loopback TCP.
struct DistributedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Compare per-step time on N loopback workers with the in-process executor, and bytes moved per step.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var output: FormatOptions
    @Option(help: "Workers (threads in this process, behind real loopback sockets).") var workers = 2
    @Flag(help: "Run the workers as `lethe worker` processes (loopback TCP), as a deployment does.")
    var processes = false
    @OptionGroup var compute: ComputeOptions
    @Option(help: "Logical shards per step (default: one per worker).") var shards: Int?
    @Option(help: "Minibatch size.") var batchSize = 128
    @Option(help: "Steps measured (after 2 warm-up steps) on each executor, in interleaved pairs.") var steps = 60

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
        guard (1...UnlearningLimits.batchSize).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(UnlearningLimits.batchSize)")
        }
        guard (1...batchSize).contains(shards ?? workers) else {
            throw ValidationError("--shards must be between 1 and the batch size \(batchSize)")
        }
        guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 100000") }
    }

    func run() async throws {
        // Worker processes take `--threads` each; the in-process reference, what they are measured against, gets
        // as many threads as they have together (up to the cores), so that it is one process on the same cores.
        Parallel.configure(threads: processes ? compute.threads.map { $0 * workers } : compute.threads)
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
        let localExecutor = LocalExecutor(dataset: dataset, shards: shards, original: model) {
            try! ModelSpec.build(modelOptions.model, seed: $0)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try EmbeddedCluster(
            workers: workers, directory: directory, endpoint: "tcp://127.0.0.1:*", asProcesses: processes,
            threads: processes ? compute.threads : EmbeddedCluster.threadsPerWorker(workers: workers, shards: shards))
        defer { cluster.stop() }
        let checkpoint = directory.appendingPathComponent("model.safetensors")
        try ModelCheckpoint.save(model, to: checkpoint)
        let executor = RemoteExecutor(
            pool: cluster.pool, job: "bench", shards: shards,
            datasetSHA256: try cluster.put(dataset), labels: dataset.labels,
            originalSHA256: try cluster.blobs.put(contentsOf: checkpoint), architecture: modelOptions.model)
        // Each step runs on both executors back to back, first one then the other in turn, so a machine whose
        // speed drifts (shared cores) weighs on both alike; the median pair's ratio is the overhead. Bytes are
        // counted from the third step on (warm-up steps move the dataset and model blobs).
        let pool = cluster.pool
        let job = Handoff {
            let states = (0..<2).map { _ in
                PlanState(student: model.copy(), optimizers: ["sgd": SGD(learningRate: 0.01, momentum: 0.9)])
            }
            let executors: [StepExecutor] = [localExecutor, executor]
            var (seconds, bytesBefore) = ([[Double]](repeating: [], count: 2), 0)
            for index in 0..<(steps + 2) {
                if index == 2 { bytesBefore = pool.bytesMoved }
                for which in index % 2 == 0 ? [0, 1] : [1, 0] {
                    let start = Date()
                    _ = try executors[which].gradient(gradientStep(index), state: states[which])
                    states[which].optimizer("sgd").update(model: states[which].student)
                    if index >= 2 { seconds[which].append(Date().timeIntervalSince(start)) }
                }
            }
            let weights = states.map { WeightsVersion.of($0.student) }
            return (seconds, pool.bytesMoved - bytesBefore, weights[0] == weights[1])
        }
        let (seconds, bytes, sameBits) = try await DedicatedThread.run(name: "bench") { try job.value() }
        let ratios = zip(seconds[1], seconds[0]).map { $0 / $1 - 1 }
        let report = DistributedBenchReport(
            model: model.architecture, batchSize: batchSize, workers: workers,
            workersAre: processes ? "processes" : "threads", shards: shards, steps: steps,
            threads: Parallel.maxThreads, workerThreads: processes ? compute.threads ?? Parallel.maxThreads : nil,
            blas: BLAS.kernelIdentity, localStepMs: 1000 * median(seconds[0]), remoteStepMs: 1000 * median(seconds[1]),
            overhead: median(ratios), overheadQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
            parameterBytes: model.stateDict().reduce(0) { $0 + 4 * $1.tensor.count },
            bytesPerStep: bytes / steps, sameBits: sameBits)
        switch output.format {
        case .json: try printJSONLine(report)
        case .text:
            print(
                String(
                    format:
                        "%@, batch %d, %d shards, median of %d steps: in process %.1f ms/step, %d loopback worker %@ %.1f ms/step (%+.1f%%, quartiles %+.1f%% %+.1f%%), %.2f MB/step, same bits: %@",
                    report.model, batchSize, shards, steps, report.localStepMs, workers, report.workersAre,
                    report.remoteStepMs,
                    100 * report.overhead, 100 * report.overheadQuartiles[0], 100 * report.overheadQuartiles[1],
                    Double(report.bytesPerStep) / 1e6, report.sameBits ? "yes" : "NO"))
        }
    }
}

struct DistributedBenchReport: Encodable {
    let model: String
    let batchSize: Int
    let workers: Int
    /// `threads` in the bench's process or `lethe worker` `processes`.
    let workersAre: String
    let shards: Int
    let steps: Int
    /// Threads of the in-process executor (and of each worker in this process; they share them).
    let threads: Int
    /// Threads of each worker process (`--threads`; the reference has workers × these, up to the cores).
    let workerThreads: Int?
    let blas: String
    /// The reference measured in the same run: the same steps with the in-process executor (medians).
    let localStepMs: Double
    let remoteStepMs: Double
    /// The median over steps of remote ÷ local − 1, each step timed on both back to back.
    let overhead: Double
    /// The first and third quartiles of those ratios.
    let overheadQuartiles: [Double]
    let parameterBytes: Int
    let bytesPerStep: Int
    let sameBits: Bool
}

/// The middle value (the mean of the two middle ones for an even count).
func median(_ values: [Double]) -> Double { quantile(values, 0.5) }

/// The `q` quantile, interpolating linearly between the two nearest values.
func quantile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let position = q * Double(sorted.count - 1)
    let (lower, upper) = (Int(position.rounded(.down)), Int(position.rounded(.up)))
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}
