import Data
import Foundation
import Jobs
import NN
import Synchronization
import Tensor
import Transport
import Unlearning
import Wire

/// What a worker does with a shard task, without any networking: resolves the job's dataset and original model
/// by hash (from its blob cache), keeps the student replica, checks everything the task refers to, and computes
/// the shard. A bad task becomes a `ProtocolError`, never a crash.
public final class ShardComputer: Sendable {
    private let blobs: BlobStore
    /// The data and models kept between tasks; a task holds it while it computes (one task at a time).
    private let cache: Mutex<ShardCache>

    public init(blobs: BlobStore) {
        self.blobs = blobs
        cache = Mutex(ShardCache(blobs: blobs))
        ModelFiles.addSource { [blobs] in try? [UInt8](blobs.data($0)) }
    }

    /// Takes `dataset` as the one whose blob has this hash, so that the first task does not decode the blob: for
    /// workers in the process that encoded it (an embedded cluster), which would otherwise each decode a copy. The
    /// blob stays needed (`missingBlobs`): a later job's data may take the dataset's place.
    public func adopt(_ dataset: Dataset, sha256: String) { cache.withLock { $0.adopt(dataset, sha256: sha256) } }

    /// The blobs a task needs that are not in the cache yet.
    public func missingBlobs(for context: JobContext) -> [String] {
        ([context.datasetSHA256, context.originalSHA256] + [ModelFiles.blob(of: context.architecture)].compactMap { $0 })
            .filter { !blobs.contains($0) }
    }

    /// Whether the replica holds the weights a task names (otherwise the coordinator must include them).
    public func hasWeights(_ sha256: String) -> Bool { cache.withLock { $0.replicaWeights == sha256 } }

    /// Computes `task` with the tensors that came with it; the reply carries its result tensors, except the
    /// parameter gradients handed to `sendPart` during the backward pass when the task asks for parts.
    public func run(
        _ task: ShardTask, tensors: [NamedTensor], sendPart: @Sendable ([NamedTensor]) -> Void = { _ in }
    ) throws(ProtocolError) -> Envelope<WorkerToCoordinator> {
        try run(task, arrival: WeightsArrival(tensors), sendPart: sendPart)
    }

    /// Computes `task` with its tensors as they arrive: when it brings weights, each layer's are loaded as the
    /// forward pass reaches it, and all are checked against the task's weights version before any result leaves.
    func run(_ task: ShardTask, arrival: WeightsArrival, sendPart: @Sendable ([NamedTensor]) -> Void)
        throws(ProtocolError) -> Envelope<WorkerToCoordinator>
    {
        try cache.withLock { cache throws(ProtocolError) in
            try compute(task, arrival: arrival, cache: &cache, sendPart: sendPart)
        }
    }

    private func compute(
        _ task: ShardTask, arrival: WeightsArrival, cache: inout ShardCache,
        sendPart: @Sendable ([NamedTensor]) -> Void
    ) throws(ProtocolError) -> Envelope<WorkerToCoordinator> {
        let start = Date()
        let context = task.context
        let dataset = try cache.dataset(context.datasetSHA256)
        let original = try cache.original(context)
        let gate = context.weightsIncluded ? cache.student(context, arriving: arrival, like: original) : nil
        let student: Model
        if let gate { student = gate.model } else { student = try cache.student(context) }
        let frozenModels = cache.frozenModels(context, original: original)
        let reply = try compute(
            task, student: student, gate: gate, tensors: arrival.received, dataset: dataset, frozen: frozenModels,
            start: start, sendPart: sendPart)
        if let gate {
            try gate.check()
            cache.keep(student, context)
        }
        return reply
    }

    private func compute(
        _ task: ShardTask, student: Model, gate: WeightsGate?, tensors: [String: Tensor], dataset: Dataset,
        frozen frozenModels: FrozenModels, start: Date, sendPart: @Sendable ([NamedTensor]) -> Void
    ) throws(ProtocolError) -> Envelope<WorkerToCoordinator> {
        switch task.work {
        case .gradient(let step):
            let inputs = tensors.filter { $0.key.hasPrefix("input/") }
            try check(step, dataset: dataset, model: student, inputs: inputs)
            let parameters = student.namedParameters
            var parts = GradientParts(minimumBytes: task.gradientPartBytes)
            let result = withoutActuallyEscaping(sendPart) { sendPart in
                ShardedStep.compute(
                    step, shard: 0, of: 1,
                    inputs: ShardInputs(
                        student: student, dataset: dataset, tensors: inputs, frozen: frozenModels.model,
                        startingLayer: gate?.load),
                    gradientsFinished: task.gradientPartBytes > 0
                        ? { indices in
                            // Nothing leaves before the weights it was computed with are known to be the task's.
                            if let gate, (try? gate.check()) == nil { return }
                            parts.add(indices.map { NamedTensor(parameters[$0].name, parameters[$0].parameter.grad) })
                                .map(sendPart)
                        } : nil)
            }
            var out = zip(parameters, result.parameterGradients).filter { !parts.sent.contains($0.0.name) }
                .map { NamedTensor($0.name, $1) }
            for (index, gradient) in result.inputGradients.enumerated() {
                if let gradient { out.append(NamedTensor("input/\(index)", gradient)) }
            }
            out += BatchStatisticsFrames.encode(result.batchStatistics)
            return Envelope(
                .shardResult(
                    ShardReport(
                        id: task.id, weightedLoss: result.weightedLoss, correct: result.correct,
                        seconds: Date().timeIntervalSince(start))),
                tensors: out)
        case .prediction(let request):
            try checkIndices(request.indices, dataset: dataset)
            try gate?.check()
            let model =
                switch request.subject {
                case .student: student
                case .frozen(let which): frozenModels.model(which)
                }
            let predictions = Evaluator.predict(model, on: dataset, indices: request.indices)
            return Envelope(
                .shardResult(
                    ShardReport(
                        id: task.id, weightedLoss: 0, correct: [], predicted: predictions.predicted,
                        seconds: Date().timeIntervalSince(start))),
                tensors: [
                    NamedTensor("logits", predictions.logits),
                    NamedTensor("losses", Tensor(shape: [predictions.losses.count], scalars: predictions.losses)),
                ])
        }
    }

    private func check(_ step: GradientStep, dataset: Dataset, model: Model, inputs: [String: Tensor])
        throws(ProtocolError)
    {
        let layers = Set(model.layerPaths)
        // A regression dataset's labels only group its samples; a classifier's must be classes it predicts.
        let classes = dataset.isRegression ? dataset.classCount : model.classCount
        for part in step.parts {
            guard part.labels.allSatisfy({ (0..<classes).contains($0) }) else {
                throw ProtocolError(.badRequest, "a label is outside 0..<\(classes)")
            }
            switch part.inputs {
            case .samples(let indices):
                try checkIndices(indices, dataset: dataset)
            case .tensorRows(let name, let rows):
                guard let tensor = inputs[name] else {
                    throw ProtocolError(.badRequest, "the task names input tensor '\(name)' but does not carry it")
                }
                guard tensor.shape == [rows.count] + dataset.imageShape else {
                    throw ProtocolError(
                        .badShape,
                        "input tensor '\(name)' has shape \(tensor.shape); expected \([rows.count] + dataset.imageShape)"
                    )
                }
            }
            for loss in part.losses {
                if let unknown = loss.featureLayers.first(where: { !layers.contains($0) }) {
                    throw ProtocolError(.badRequest, "\(model.architecture) has no layer '\(unknown)'")
                }
                try checkStoredRows(loss, rows: part.labels.count, dataset: dataset, model: model, inputs: inputs)
            }
        }
    }

    /// Regression terms read their targets from the dataset or stored rows from the task's tensors, stored
    /// distillation its teacher's logits: refuse a task whose tensors are missing or of the wrong shape instead of
    /// failing inside the computation.
    private func checkStoredRows(
        _ loss: LossComponent, rows: Int, dataset: Dataset, model: Model, inputs: [String: Tensor]
    ) throws(ProtocolError) {
        func stored(_ name: String, width: Int) throws(ProtocolError) {
            guard let tensor = inputs[name] else {
                throw ProtocolError(.badRequest, "the task names stored tensor '\(name)' but does not carry it")
            }
            guard tensor.rank == 2, tensor.shape[0] == rows, tensor.shape[1] == width else {
                throw ProtocolError(.badShape, "stored tensor '\(name)' has shape \(tensor.shape) for \(rows) rows")
            }
        }
        switch loss {
        case .absoluteError(let target, _), .squaredError(let target, _):
            guard case .regression(let outputs) = model.head else {
                throw ProtocolError(.badRequest, "\(model.architecture) is not a regression model")
            }
            switch target {
            case .dataset:
                guard dataset.targets?.shape[1] == outputs else {
                    throw ProtocolError(.badRequest, "the dataset has no \(outputs)-value regression targets")
                }
            case .tensorRows(let name, _): try stored(name, width: outputs)
            }
        case .storedDistillation(let logits, _, _, _):
            try stored(logits, width: model.classCount)
        case .attentionToMaps(let maps, _, let layers, _):
            let shapes = model.featureShapes(at: Set(layers))
            for layer in layers {
                guard let shape = shapes[layer], shape.count == 4 else {
                    throw ProtocolError(
                        .badRequest,
                        "attention maps need image features [N, C, H, W]; layer '\(layer)' gives \(shapes[layer] ?? [])"
                    )
                }
                try stored(maps + layer, width: shape[2] * shape[3])
            }
        default: break
        }
    }

    private func checkIndices(_ indices: [Int], dataset: Dataset) throws(ProtocolError) {
        guard indices.allSatisfy({ (0..<dataset.count).contains($0) }) else {
            throw ProtocolError(.badRequest, "a sample index is outside the dataset's \(dataset.count) samples")
        }
    }
}

/// Finished parameter gradients collected during a backward pass until they make a part worth a message.
private struct GradientParts {
    let minimumBytes: Int
    private var collected: [NamedTensor] = []
    /// Names of the gradients handed out in parts (the result leaves them out).
    private(set) var sent = Set<String>()

    init(minimumBytes: Int) { self.minimumBytes = minimumBytes }

    /// Adds finished gradients; returns a part to send once the collected ones reach `minimumBytes`.
    mutating func add(_ gradients: [NamedTensor]) -> [NamedTensor]? {
        collected += gradients
        guard collected.reduce(0, { $0 + $1.tensor.count * MemoryLayout<Float>.size }) >= minimumBytes else {
            return nil
        }
        defer { collected = [] }
        sent.formUnion(collected.map(\.name))
        return collected
    }
}
