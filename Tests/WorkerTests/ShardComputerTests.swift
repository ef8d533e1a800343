import Checkpoint
import Data
import Foundation
import Jobs
import LetheTesting
import NN
import Tensor
import Testing
import Transport
import Unlearning
import Wire
import Worker

/// A worker checks what the wire decoder cannot know (DESIGN §5): sample indices against its dataset, labels
/// against the model, its replica against the weights version; each bad task is refused with a typed code and
/// a good one still computes afterwards.
struct ShardComputerTests {
    let dataset = labelledDataset(perClass: [Int](repeating: 4, count: 10), seed: 3)

    func setUp(
        architecture: String = "fmnist-mlp", model: Model = ModelZoo.fmnistMLP(seed: 1), dataset: Dataset? = nil
    ) throws -> (ShardComputer, JobContext, Model, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let blobs = try BlobStore(directory: directory.url)
        let checkpoint = directory.url.appendingPathComponent("original.safetensors")
        try ModelCheckpoint.save(model, to: checkpoint)
        let context = JobContext(
            datasetSHA256: try blobs.put(DatasetBlob.encode(dataset ?? self.dataset)),
            originalSHA256: try blobs.put(contentsOf: checkpoint),
            architecture: architecture, weightsVersion: WeightsVersion.of(model), weightsIncluded: true)
        return (ShardComputer(blobs: blobs), context, model, directory)
    }

    func task(
        _ context: JobContext, indices: [Int], labels: [Int], losses: [LossComponent] = [.crossEntropy(weight: 1)]
    ) -> ShardTask {
        ShardTask(
            id: TaskID(job: "job-1", phase: 0, step: 0, shard: 0, attempt: 0), context: context,
            work: .gradient(
                GradientStep(parts: [BatchPart(inputs: .samples(indices), labels: labels, losses: losses)], seed: 1)))
    }

    func expectRefusal(
        _ computer: ShardComputer, _ task: ShardTask, _ tensors: [NamedTensor], _ code: ProtocolError.Code,
        _ message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(sourceLocation: sourceLocation) {
            try computer.run(task, tensors: tensors)
        } throws: { error in
            guard let refusal = error as? ProtocolError else { return false }
            return refusal.code == code && refusal.message.contains(message)
        }
    }

    @Test func badTasksAreRefusedWithTheirCodeAndGoodOnesStillCompute() throws {
        let (computer, context, model, directory) = try setUp()
        defer { directory.remove() }
        let weights = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        let cases: [(ShardTask, [NamedTensor], ProtocolError.Code, String)] = [
            (task(context, indices: [0, 400], labels: [0, 1]), weights, .badRequest, "outside the dataset's 40"),
            (task(context, indices: [0, 1], labels: [0, 12]), weights, .badRequest, "a label is outside 0..<10"),
            (
                task(
                    JobContext(
                        datasetSHA256: context.datasetSHA256, originalSHA256: context.originalSHA256,
                        architecture: "fmnist-mlp", weightsVersion: "0123456789abcdef", weightsIncluded: false),
                    indices: [0], labels: [0]), [], .staleWeights, "stale weights"
            ),
        ]
        for (task, tensors, code, message) in cases { expectRefusal(computer, task, tensors, code, message) }
        #expect(computer.missingBlobs(for: context).isEmpty)
        let unknown = JobContext(
            datasetSHA256: String(repeating: "b", count: 64), originalSHA256: context.originalSHA256,
            architecture: "fmnist-mlp", weightsVersion: context.weightsVersion, weightsIncluded: false)
        #expect(computer.missingBlobs(for: unknown) == [String(repeating: "b", count: 64)])

        let envelope = try computer.run(task(context, indices: [0, 1, 2], labels: [0, 0, 0]), tensors: weights)
        guard case .shardResult(let report) = envelope.message else {
            Issue.record("expected a shard result, got \(envelope.message.kind)")
            return
        }
        #expect(report.correct.count == 1 && report.weightedLoss.isFinite)
        #expect(envelope.tensors.map(\.name) == model.namedParameters.map(\.name))
    }

    /// A dataset adopted under a hash serves tasks naming it without its blob (workers embedded in the process
    /// that holds it), with the bits the blob's decoded copy gives.
    @Test func anAdoptedDatasetServesTasksWithoutItsBlob() throws {
        let (computer, context, model, directory) = try setUp()
        defer { directory.remove() }
        let weights = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        let fromBlob = try computer.run(task(context, indices: [0, 3, 7], labels: [0, 0, 1]), tensors: weights)
        var adopted = context
        adopted.datasetSHA256 = String(repeating: "c", count: 64)  // no such blob in the store
        let embedded = ShardComputer(blobs: try BlobStore(directory: directory.url))
        embedded.adopt(dataset, sha256: adopted.datasetSHA256)
        let fromMemory = try embedded.run(task(adopted, indices: [0, 3, 7], labels: [0, 0, 1]), tensors: weights)
        #expect(BitHash.of(fromMemory.tensors.map(\.tensor)) == BitHash.of(fromBlob.tensors.map(\.tensor)))
    }

    /// Distillation from stored logits reads them from the task's tensors: a task without them, or with logits of
    /// another width than the model's classes, is refused before computing.
    @Test func storedDistillationWithoutFittingLogitsIsRefused() throws {
        let (computer, context, model, directory) = try setUp()
        defer { directory.remove() }
        let weights = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        let losses: [LossComponent] = [
            .storedDistillation(logits: "input/0/loss/0", rows: [0, 1], temperature: 4, weight: 1)
        ]
        let distilling = task(context, indices: [0, 1], labels: [0, 0], losses: losses)
        expectRefusal(computer, distilling, weights, .badRequest, "does not carry")
        expectRefusal(
            computer, distilling, weights + [NamedTensor("input/0/loss/0", Tensor(zeros: [2, 7]))], .badShape,
            "stored tensor 'input/0/loss/0' has shape [2, 7]")
        let envelope = try computer.run(
            distilling, tensors: weights + [NamedTensor("input/0/loss/0", Tensor(zeros: [2, 10]))])
        guard case .shardResult(let report) = envelope.message else {
            Issue.record("expected a shard result, got \(envelope.message.kind)")
            return
        }
        #expect(report.weightedLoss.isFinite && report.weightedLoss > 0)
    }

    /// A task that asks for parts gets each parameter's gradient once, in parts of at least the bytes it names
    /// (fmnist-mlp: fc3 and fc2, then fc1) or in the result, with the bits of a result that carries them all.
    @Test func gradientPartsCoverEveryParameterOnceWithTheSameBits() throws {
        let (computer, context, model, directory) = try setUp()
        defer { directory.remove() }
        let weights = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        let whole = try computer.run(task(context, indices: [0, 1, 2, 5], labels: [0, 0, 0, 1]), tensors: weights)
        var parted = task(context, indices: [0, 1, 2, 5], labels: [0, 0, 0, 1])
        parted.gradientPartBytes = 64 << 10
        let parts = Collected<[NamedTensor]>()
        let result = try computer.run(parted, tensors: weights) { parts.append($0) }
        #expect(
            parts.value.map { $0.map(\.name) } == [
                ["fc3.weight", "fc3.bias", "fc2.weight", "fc2.bias"], ["fc1.weight", "fc1.bias"],
            ])
        #expect(result.tensors.isEmpty)
        let sent = parts.value.flatMap { $0 } + result.tensors
        #expect(
            BitHash.of(model.namedParameters.map { name, _ in sent.first { $0.name == name }!.tensor })
                == BitHash.of(whole.tensors.map(\.tensor)))
    }

    /// Regression terms read stored rows (targets, the blindspot model's attention maps) from the task's tensors:
    /// a missing tensor, one of the wrong width, or maps asked of a layer without image features are refused
    /// before computing (a wrong map width used to stop the worker on a precondition).
    @Test func regressionTasksWithBadStoredTensorsAreRefused() throws {
        var generator = SeededGenerator(seed: 4)
        let images = Tensor.uniform(shape: [6, 1, 28, 28], in: 0..<1, using: &generator)
        let regression = Dataset(
            name: "toy-angles", images: images, labels: [Int](repeating: 0, count: 6), classCount: 1,
            targets: Tensor(shape: [6, 1], scalars: [0.1, -0.2, 0.3, 0.5, -0.9, 0.7]))
        let model = ModelZoo.fmnistCNN(seed: 1, regressionOutputs: 1)
        let (computer, context, _, directory) = try setUp(
            architecture: "fmnist-cnn:regression=1", model: model, dataset: regression)
        defer { directory.remove() }
        let weights = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        func maps(_ layer: String, width: Int) -> NamedTensor {
            NamedTensor("input/0/loss/0/" + layer, Tensor(zeros: [2, width]))
        }
        func attention(_ layers: [String]) -> [LossComponent] {
            [.attentionToMaps(maps: "input/0/loss/0/", rows: [0, 1], layers: layers, weight: 50)]
        }
        let stored: [LossComponent] = [
            .absoluteError(target: .tensorRows(name: "input/0/loss/0", rows: [0, 1]), weight: 1)
        ]
        let cases: [(ShardTask, [NamedTensor], ProtocolError.Code, String)] = [
            (task(context, indices: [0, 1], labels: [0, 0], losses: stored), weights, .badRequest, "does not carry"),
            (
                task(context, indices: [0, 1], labels: [0, 0], losses: stored),
                weights + [NamedTensor("input/0/loss/0", Tensor(zeros: [2, 3]))], .badShape,
                "stored tensor 'input/0/loss/0'"
            ),
            (
                task(context, indices: [0, 1], labels: [0, 0], losses: attention(["conv2"])),
                weights + [maps("conv2", width: 5)], .badShape, "stored tensor 'input/0/loss/0/conv2' has shape [2, 5]"
            ),
            (
                task(context, indices: [0, 1], labels: [0, 0], losses: attention(["fc1"])),
                weights + [maps("fc1", width: 128)], .badRequest, "layer 'fc1' gives [1, 128]"
            ),
        ]
        for (task, tensors, code, message) in cases { expectRefusal(computer, task, tensors, code, message) }

        let good = task(
            context, indices: [0, 1], labels: [0, 0],
            losses: [.absoluteError(target: .dataset, weight: 1)] + attention(["conv1", "conv2"]))
        let envelope = try computer.run(
            good, tensors: weights + [maps("conv1", width: 28 * 28), maps("conv2", width: 14 * 14)])
        guard case .shardResult(let report) = envelope.message else {
            Issue.record("expected a shard result, got \(envelope.message.kind)")
            return
        }
        #expect(report.weightedLoss.isFinite)
    }

    /// A JSON architecture named by content (`json:<sha256>`, as `lethe submit --model model.json` names it) is
    /// a blob the worker fetches like the data: listed as missing until stored, then built from the store with no
    /// file on disk.
    @Test func aJSONArchitectureNamedByContentIsFetchedAndBuilt() throws {
        let spec = """
            {"name": "tiny-mlp", "input": [1, 28, 28], "layers": [{"type": "flatten"},
              {"type": "linear", "name": "fc", "in": 784, "out": 10}]}
            """
        let sha256 = BlobStore.sha256(Data(spec.utf8))
        let architecture = ModelFiles.architecture(.json, sha256: sha256)
        #expect(architecture == "json:" + sha256)
        let file = try TemporaryDirectory()
        defer { file.remove() }
        try spec.write(toFile: file.path("tiny.json"), atomically: true, encoding: .utf8)
        let model = try ModelSpec.build(file.path("tiny.json"), seed: 1)
        let (computer, stored, _, directory) = try setUp(architecture: architecture, model: model)
        defer { directory.remove() }
        #expect(computer.missingBlobs(for: stored) == [sha256])
        _ = try BlobStore(directory: directory.url).put(Data(spec.utf8))
        #expect(computer.missingBlobs(for: stored).isEmpty)
        let weights = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        let envelope = try computer.run(task(stored, indices: [0, 1], labels: [0, 1]), tensors: weights)
        guard case .shardResult(let report) = envelope.message else {
            Issue.record("expected a shard result, got \(envelope.message.kind)")
            return
        }
        #expect(report.weightedLoss.isFinite)
        #expect(envelope.tensors.map(\.name) == ["fc.weight", "fc.bias"])
    }
}
