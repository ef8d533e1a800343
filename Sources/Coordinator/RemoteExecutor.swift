import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning
import Wire

/// Runs plan steps on workers (DESIGN §4): each gradient step becomes one task per logical shard, the results
/// are summed in shard order exactly as `LocalExecutor` sums them, so the bits do not depend on who computed
/// what. Prediction requests go out in chunks of the evaluator's batch size, for the same reason.
public final class RemoteExecutor: StepExecutor {
    public let pool: WorkerPool
    public let job: String
    public let shards: Int
    private let context: JobContext
    /// The training labels the workers' dataset holds (predictions report them).
    private let labels: [Int]
    /// Position of the next task group, part of every task id.
    public private(set) var stepsRun = 0
    /// Training indices read so far; a resumed run starts from what its snapshot recorded.
    public var touchedSamples = Set<Int>()
    static let predictionChunk = 250

    /// `datasetSHA256` and `originalSHA256` name blobs the pool serves; `labels` are that dataset's labels.
    public init(
        pool: WorkerPool, job: String, shards: Int, datasetSHA256: String, labels: [Int], originalSHA256: String,
        architecture: String
    ) {
        precondition(shards >= 1, "shards must be at least 1")
        self.pool = pool
        self.job = job
        self.shards = shards
        self.labels = labels
        context = JobContext(
            datasetSHA256: datasetSHA256, originalSHA256: originalSHA256, architecture: architecture,
            weightsVersion: "", weightsIncluded: false)
    }

    public func gradient(_ step: GradientStep, state: PlanState) throws -> StepOutcome {
        let (weights, context) = weightsAndContext(state.student)
        // Training-mode shards of models with BatchNorm return each layer's batch statistics.
        let channels = step.isTraining ? state.student.batchNorms.map(\.channels) : []
        for part in step.parts { if case .samples(let indices) = part.inputs { touchedSamples.formUnion(indices) } }
        let parameters = state.student.namedParameters.map { (name: $0.name, shape: $0.parameter.value.shape) }
        let cuts = (0..<shards).map { ShardedStep.task(step, shard: $0, of: shards, tensors: state.tensors) }
        // A shard without rows runs no forward pass and so has no statistics.
        let expected = cuts.map { cut in cut.step.parts.contains { !$0.labels.isEmpty } ? channels : [] }
        let tasks = cuts.enumerated().map { shard, task in
            let (cut, inputs) = task
            let inputShapes = step.target == .inputs ? inputs.mapValues(\.shape) : [:]
            return WorkerPool.Task(
                id: taskID(shard), context: context, work: .gradient(cut),
                tensors: inputs.sorted { $0.key < $1.key }.map { NamedTensor($0.key, $0.value) },
                validate: { [statistics = expected[shard]] in
                    Self.validateGradient(
                        $0, parameters: step.target == .parameters ? parameters : [],
                        inputs: inputShapes, parts: cut.parts.count)
                        ?? (BatchStatisticsFrames.decode(Self.tensors(of: $0), channels: statistics) == nil
                            ? "the result lacks valid BatchNorm statistics for \(statistics.count) layers" : nil)
                })
        }
        stepsRun += 1
        let results = try pool.run(tasks, weights: weights).enumerated().map { shard, answer in
            let (report, tensors) = (answer.report, Self.tensors(of: answer))
            return ShardResult(
                parameterGradients: step.target == .parameters ? parameters.map { tensors[$0.name]! } : [],
                weightedLoss: report.weightedLoss, correct: report.correct,
                inputGradients: step.parts.indices.map { tensors["input/\($0)"] },
                batchStatistics: BatchStatisticsFrames.decode(tensors, channels: expected[shard]) ?? [])
        }
        return ShardedStep.combine(results, of: step, into: state.student)
    }

    public func predict(_ request: PredictionRequest, state: PlanState) throws -> Evaluator.Predictions {
        if request.countsAsRead { touchedSamples.formUnion(request.indices) }
        let (weights, context) = weightsAndContext(state.student)
        let classes = state.student.classCount
        let chunks = stride(from: 0, to: request.indices.count, by: Self.predictionChunk).map {
            Array(request.indices[$0..<min($0 + Self.predictionChunk, request.indices.count)])
        }
        let tasks = chunks.enumerated().map { index, indices in
            WorkerPool.Task(
                id: taskID(index), context: context,
                work: .prediction(PredictionRequest(subject: request.subject, indices: indices)), tensors: [],
                validate: { Self.validatePredictions($0, rows: indices.count, classes: classes) })
        }
        stepsRun += 1
        let results = try pool.run(tasks, weights: weights)
        var predicted: [Int] = []
        var losses: [Float] = []
        var logits: [Tensor] = []
        for answer in results {
            predicted += answer.report.predicted
            for named in answer.tensors {
                if named.name == "logits" { logits.append(named.tensor) } else { losses += named.tensor.scalars }
            }
        }
        return Evaluator.Predictions(
            labels: request.indices.map { labels[$0] }, predicted: predicted, losses: losses,
            logits: logits.isEmpty ? Tensor(zeros: [0, classes]) : Tensor.concatenate(logits))
    }

    private func taskID(_ shard: Int) -> TaskID { TaskID(job: job, phase: 0, step: stepsRun, shard: shard, attempt: 0) }

    private func weightsAndContext(_ student: Model) -> ([NamedTensor], JobContext) {
        let state = student.stateDict()
        var context = context
        context.weightsVersion = WeightsVersion.of(state)
        return (state.map { NamedTensor($0.name, $0.tensor) }, context)
    }

    static func validateGradient(
        _ answer: WorkerPool.Answer, parameters: [(name: String, shape: [Int])], inputs: [String: [Int]],
        parts: Int
    ) -> String? {
        let report = answer.report
        guard report.correct.count == parts, report.weightedLoss.isFinite || report.weightedLoss.isNaN else {
            return "the result has \(report.correct.count) part counts for \(parts) parts"
        }
        let shapes = Dictionary(answer.tensors.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        for (name, shape) in parameters where shapes[name] != shape {
            return "gradient '\(name)' has shape \(shapes[name].map { "\($0)" } ?? "missing"), expected \(shape)"
        }
        for (name, shape) in inputs where shapes[name] != shape {
            return "input gradient '\(name)' has shape \(shapes[name].map { "\($0)" } ?? "missing"), expected \(shape)"
        }
        return nil
    }

    private static func tensors(of answer: WorkerPool.Answer) -> [String: Tensor] {
        Dictionary(answer.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    static func validatePredictions(_ answer: WorkerPool.Answer, rows: Int, classes: Int) -> String? {
        let shapes = Dictionary(answer.tensors.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        guard answer.report.predicted.count == rows, shapes["logits"] == [rows, classes], shapes["losses"] == [rows],
            answer.tensors.count == 2
        else { return "predictions for \(rows) rows must have \(rows) labels, logits [\(rows), \(classes)] and losses" }
        return nil
    }
}
