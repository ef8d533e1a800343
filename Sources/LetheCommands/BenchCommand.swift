import ArgumentParser
import Data
import Foundation
import Jobs
import NN
import Tensor
import Unlearning
import ZeroMQ

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print machine-readable figures.",
        subcommands: [EngineBench.self, UnlearnBench.self, DistributedBench.self])
}

/// Training throughput of the engine against OpenBLAS's sgemm peak measured in the same run.
struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Measure sgemm GFLOP/s and the engine's training throughput (forward + backward + update).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var output: FormatOptions
    @Option(help: "Minibatch size.") var batchSize = 128
    @Option(help: "Seconds to spend measuring each figure.") var seconds: Double = 5
    @Option(help: "Batch of the inference figure (that of `lethe eval` and the verification by default).")
    var inferenceBatchSize = Evaluator.defaultBatchSize

    func validate() throws {
        guard (1...UnlearningLimits.batchSize).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(UnlearningLimits.batchSize)")
        }
        guard (1...UnlearningLimits.batchSize).contains(inferenceBatchSize) else {
            throw ValidationError("--inference-batch-size must be between 1 and \(UnlearningLimits.batchSize)")
        }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
    }

    func run() async throws {
        compute.apply()
        let sgemm = measureSgemm(seconds: seconds, threads: Parallel.maxThreads)
        let sgemmOneThread = measureSgemm(seconds: seconds, threads: 1)
        let model = try ModelSpec.build(modelOptions.model, seed: 1)
        let flopsPerSample = 3.0 * 2.0 * Double(model.forwardMultiplyAccumulates())
        let training = measureTraining(model, seconds: seconds)
        let trainGflops = training.samplesPerSecond * flopsPerSample / 1e9
        let inference = measureInference(model, seconds: seconds)
        let layers = measureLayers(model)
        let report = EngineBenchReport(
            model: model.architecture, batchSize: batchSize, threads: Parallel.maxThreads, blas: .current,
            sgemmSize: sgemm.size, sgemmGflops: sgemm.gflops, sgemmGflopsOneThread: sgemmOneThread.gflops,
            trainSamplesPerSecond: training.samplesPerSecond, trainStepsMeasured: training.steps,
            trainPageFaultsPerStep: training.pageFaultsPerStep,
            trainMflopPerSample: flopsPerSample / 1e6, trainGflops: trainGflops,
            fractionOfSgemmPeak: trainGflops / sgemm.gflops, inferenceSamplesPerSecond: inference,
            inferenceBatchSize: inferenceBatchSize, layers: layers)
        switch output.format {
        case .json: try printJSONLine(report)
        case .text:
            print(
                String(
                    format: "sgemm %d³: %.1f GFLOP/s (%@ kernels, %d threads; %.1f on 1 thread)", sgemm.size,
                    sgemm.gflops, report.blas.kernels, report.threads, sgemmOneThread.gflops))
            print(
                String(
                    format: "%@ training, batch %d: %.0f samples/s, %.1f GFLOP/s (%.1f MFLOP/sample), %.0f%% of sgemm",
                    model.architecture, batchSize, training.samplesPerSecond, trainGflops, flopsPerSample / 1e6,
                    100 * report.fractionOfSgemmPeak))
            print(String(format: "inference, batch %d: %.0f samples/s", inferenceBatchSize, inference))
            for layer in layers {
                print(
                    String(
                        format: "  %-12@ forward %7.2f ms  backward %7.2f ms", layer.name, layer.forwardMs,
                        layer.backwardMs))
            }
        }
    }

    /// Square sgemm at a size large enough to reach the library's practical peak, as the engine computes: `threads`
    /// single-threaded OpenBLAS products at once, one per thread (the engine keeps OpenBLAS single-threaded for
    /// determinism and threads over GEMM pieces; OpenBLAS's own threading measured no faster than one thread on
    /// this 2-vCPU host). Training on N threads is compared with this rate on N threads.
    func measureSgemm(seconds: Double, threads: Int) -> (size: Int, gflops: Double) {
        let n = 2048
        var generator = SeededGenerator(seed: 1)
        let pairs = (0..<threads).map { _ in
            (
                Tensor.uniform(shape: [n, n], in: -1..<1, using: &generator),
                Tensor.uniform(shape: [n, n], in: -1..<1, using: &generator)
            )
        }
        let runs = Locked([Int](repeating: 0, count: threads))
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let (a, b) = pairs[thread]
            var done = 0
            while Date().timeIntervalSince(start) < seconds || done < 3 {
                _ = a.matmul(b)
                done += 1
            }
            runs.withLock { $0[thread] = done }
        }
        let elapsed = Date().timeIntervalSince(start)
        let total = runs.withLock { $0.reduce(0, +) }
        return (n, 2 * Double(n * n * n) * Double(total) / elapsed / 1e9)
    }

    /// Full SGD steps on a fixed synthetic batch (data loading is not part of the engine).
    func measureTraining(_ model: Model, seconds: Double) -> (
        samplesPerSecond: Double, steps: Int, pageFaultsPerStep: Double
    ) {
        var generator = SeededGenerator(seed: 2)
        let images = Tensor.normal(shape: [batchSize] + model.inputShape, using: &generator)
        let labels = (0..<batchSize).map { _ in generator.nextInt(below: model.classCount) }
        let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
        let dataset = Dataset(name: "synthetic", images: images, labels: labels, classCount: model.classCount)
        let inputs = ShardInputs(student: model, dataset: dataset, tensors: [:], frozen: { _ in model })
        let gradientStep = GradientStep(
            parts: [
                BatchPart(inputs: .samples(Array(0..<batchSize)), labels: labels, losses: [.crossEntropy(weight: 1)])
            ],
            seed: 0)
        func step() {
            let shard = ShardedStep.compute(gradientStep, shard: 0, of: 1, inputs: inputs)
            _ = ShardedStep.combine([shard], of: gradientStep, into: model)
            optimizer.update(model: model)
        }
        for _ in 0..<3 { step() }
        var steps = 0
        let (start, faults) = (Date(), MemoryPolicy.pageFaults)
        while Date().timeIntervalSince(start) < seconds || steps < 5 {
            step()
            steps += 1
        }
        return (
            Double(steps * batchSize) / Date().timeIntervalSince(start), steps,
            Double(MemoryPolicy.pageFaults - faults) / Double(steps)
        )
    }

    /// Forward passes in inference mode (no activations kept), as `lethe eval` and the verification run them.
    func measureInference(_ model: Model, seconds: Double) -> Double {
        var generator = SeededGenerator(seed: 4)
        let images = Tensor.normal(shape: [inferenceBatchSize] + model.inputShape, using: &generator)
        for _ in 0..<2 { _ = model.forward(images, mode: .inference) }
        var batches = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds || batches < 5 {
            _ = model.forward(images, mode: .inference).argmaxRows()
            batches += 1
        }
        return Double(batches * inferenceBatchSize) / Date().timeIntervalSince(start)
    }
}

extension EngineBench {
    /// Time per top-level layer of one training step (forward and backward) as the model runs it, median of 5
    /// steps: from one layer's start to the next's going forward, from one layer's end to the next's going back.
    /// A ReLU that feeds a max-pool runs inside the pool (`MaxPool2d.forwardRectified`): the pair's forward time
    /// shows on the pool, its backward time on the ReLU.
    func measureLayers(_ model: Model) -> [LayerTime] {
        var generator = SeededGenerator(seed: 3)
        let images = Tensor.normal(shape: [batchSize] + model.inputShape, using: &generator)
        let labels = (0..<batchSize).map { _ in generator.nextInt(below: model.classCount) }
        let children = model.root.children
        var forward = [[Double]](repeating: [], count: children.count)
        var backward = forward
        func index(of layer: Layer) -> Int { children.firstIndex { $0.layer === layer }! }
        for _ in 0..<5 {
            var marks: [(index: Int, time: Date)] = []
            let logits = model.forward(
                images, mode: .train(), startingLayer: { marks.append((index(of: $0), Date())) })
            for (mark, next) in zip(marks, marks.dropFirst().map(\.time) + [Date()]) {
                forward[mark.index].append(next.timeIntervalSince(mark.time))
            }
            let gradient = crossEntropy(logits: logits, labels: labels).gradient
            var last = Date()
            model.backward(
                gradient,
                layerFinished: { layer in
                    let now = Date()
                    backward[index(of: layer)].append(now.timeIntervalSince(last))
                    last = now
                })
        }
        return children.enumerated().map { index, child in
            LayerTime(
                name: child.name ?? String(describing: type(of: child.layer)), forwardMs: 1000 * median(forward[index]),
                backwardMs: 1000 * median(backward[index]))
        }
    }
}

struct LayerTime: Encodable {
    let name: String
    let forwardMs: Double
    let backwardMs: Double
}

struct EngineBenchReport: Encodable {
    let model: String
    let batchSize: Int
    let threads: Int
    let blas: BLASInfo
    let sgemmSize: Int
    let sgemmGflops: Double
    /// The same sgemm on one thread: the per-thread peak.
    let sgemmGflopsOneThread: Double
    let trainSamplesPerSecond: Double
    let trainStepsMeasured: Int
    /// Pages faulted in per steady-state step (memory glibc gave back and the next step took again).
    let trainPageFaultsPerStep: Double
    let trainMflopPerSample: Double
    let trainGflops: Double
    /// Training GFLOP/s over sgemm's at the same thread count.
    let fractionOfSgemmPeak: Double
    let inferenceSamplesPerSecond: Double
    let inferenceBatchSize: Int
    let layers: [LayerTime]
}
