import Checkpoint
import Foundation
import Jobs
import LetheTesting
import NN
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

    func setUp() throws -> (ShardComputer, JobContext, Model, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let blobs = try BlobStore(directory: directory.url)
        let model = ModelZoo.fmnistMLP(seed: 1)
        let checkpoint = directory.url.appendingPathComponent("original.safetensors")
        try ModelCheckpoint.save(model, to: checkpoint)
        let context = JobContext(
            datasetSHA256: try blobs.put(DatasetBlob.encode(dataset)),
            originalSHA256: try blobs.put(contentsOf: checkpoint),
            architecture: "fmnist-mlp", weightsVersion: WeightsVersion.of(model), weightsIncluded: true)
        return (ShardComputer(blobs: blobs), context, model, directory)
    }

    func task(_ context: JobContext, indices: [Int], labels: [Int]) -> ShardTask {
        ShardTask(
            id: TaskID(job: "job-1", phase: 0, step: 0, shard: 0, attempt: 0), context: context,
            work: .gradient(
                GradientStep(
                    parts: [BatchPart(inputs: .samples(indices), labels: labels, losses: [.crossEntropy(weight: 1)])],
                    seed: 1)))
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
        for (task, tensors, code, message) in cases {
            #expect {
                try computer.run(task, tensors: tensors)
            } throws: { error in
                guard let refusal = error as? ProtocolError else { return false }
                return refusal.code == code && refusal.message.contains(message)
            }
        }
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
}
