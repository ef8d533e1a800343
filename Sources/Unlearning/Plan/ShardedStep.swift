import Data
import NN
import Tensor

/// What one logical shard of a gradient step produced. Workers send this back; the executor sums shards in
/// shard order.
public struct ShardResult: Sendable {
    /// ∂loss/∂parameter for every trainable parameter, in `namedParameters` order (empty for `.inputs` steps).
    public var parameterGradients: [Tensor]
    /// Σ weight · loss over the shard's rows (not yet divided by the step's normalizer).
    public var weightedLoss: Double
    /// Per part: the shard's rows predicted as their label.
    public var correct: [Int]
    /// For `.inputs` steps: ∂loss/∂input of the shard's rows of each state-tensor part.
    public var inputGradients: [Tensor?]
    /// Training-mode steps of models with BatchNorm: each layer's batch statistics (in `batchNorms` order), for
    /// the running averages; empty otherwise, and for a shard without rows.
    public var batchStatistics: [BatchNorm2d.BatchStatistics]

    public init(
        parameterGradients: [Tensor], weightedLoss: Double, correct: [Int], inputGradients: [Tensor?],
        batchStatistics: [BatchNorm2d.BatchStatistics] = []
    ) {
        self.parameterGradients = parameterGradients
        self.weightedLoss = weightedLoss
        self.correct = correct
        self.inputGradients = inputGradients
        self.batchStatistics = batchStatistics
    }
}

/// The inputs a shard computation reads besides the step itself.
public struct ShardInputs {
    public let student: Model
    public let dataset: Dataset
    /// Named state tensors the step's `.tensorRows` parts read.
    public let tensors: [String: Tensor]
    public let frozen: (FrozenModel) -> Model
    /// Called with each top-level layer of the student before the forward pass runs it (a worker loads weights
    /// that are still arriving); nil when the student holds all its weights.
    public let startingLayer: ((Layer) -> Void)?

    public init(
        student: Model, dataset: Dataset, tensors: [String: Tensor], frozen: @escaping (FrozenModel) -> Model,
        startingLayer: ((Layer) -> Void)? = nil
    ) {
        self.student = student
        self.dataset = dataset
        self.tensors = tensors
        self.frozen = frozen
        self.startingLayer = startingLayer
    }
}

/// DESIGN §4: a step's batch is cut into a fixed number of logical shards; each shard's gradient is computed
/// from zero and the shard results are summed in shard order, so the sum has the same bits whoever computes
/// each shard. BatchNorm running averages work the same way: a shard leaves them as they were and returns its
/// batch statistics, which `combine` applies in shard order.
public enum ShardedStep {
    /// Rows of shard `index` out of `count` for a batch of `rows`.
    public static func rows(ofShard index: Int, count: Int, batch rows: Int) -> Range<Int> {
        (rows * index / count)..<(rows * (index + 1) / count)
    }

    /// One shard of `step`: a single forward and backward pass over the shard's rows of every part. For a
    /// `.parameters` step, `gradientsFinished` is called during the backward pass with the indices (into
    /// `namedParameters`) of parameters whose gradients are final, last layer first.
    public static func compute(
        _ step: GradientStep, shard: Int, of count: Int, inputs: ShardInputs,
        gradientsFinished: ((_ parameterIndices: [Int]) -> Void)? = nil
    ) -> ShardResult {
        let ranges = step.parts.map { Self.rows(ofShard: shard, count: count, batch: $0.labels.count) }
        let offsets = ranges.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        let student = inputs.student
        guard offsets.last! > 0 else {
            return ShardResult(
                parameterGradients: step.target == .parameters
                    ? student.namedParameters.map { Tensor(zeros: $0.parameter.value.shape) } : [],
                weightedLoss: 0, correct: step.parts.map { _ in 0 }, inputGradients: step.parts.map { _ in nil })
        }
        let partImages = zip(step.parts, ranges).map { part, range in Self.images(of: part.inputs, rows: range, inputs)
        }
        let batch = Tensor.concatenate(partImages)
        let layers = Set(step.parts.flatMap(\.losses).flatMap(\.featureLayers))
        let tap = layers.isEmpty ? nil : FeatureTap(paths: layers)

        student.zeroGradients()
        let mode = ForwardMode(isTraining: step.isTraining, seed: step.seed &+ UInt64(shard))
        let norms = step.isTraining ? student.batchNorms : []
        // The running statistics are read before the forward pass: every layer's state must be in by then.
        if !norms.isEmpty { student.root.children.forEach { inputs.startingLayer?($0.layer) } }
        let running = norms.map { [$0.runningMean, $0.runningVar, $0.batchesTracked].map(\.value) }
        let logits = student.forward(batch, mode: mode, tap: tap, startingLayer: inputs.startingLayer)
        let batchStatistics = norms.map { $0.lastBatchStatistics! }
        for (norm, saved) in zip(norms, running) {
            for (buffer, value) in zip([norm.runningMean, norm.runningVar, norm.batchesTracked], saved) {
                buffer.value = value
            }
        }
        var logitsGradient = Tensor(zeros: logits.shape)
        var teacherInputGradients: [Int: Tensor] = [:]
        var weightedLoss = 0.0
        var correct: [Int] = []
        for (index, part) in step.parts.enumerated() {
            let partRows = offsets[index]..<offsets[index + 1]
            let labels = Array(part.labels[ranges[index]])
            let partLogits = logits.slice(rows: partRows)
            correct.append(zip(partLogits.argmaxRows(), labels).filter { $0 == $1 }.count)
            guard !partRows.isEmpty else { continue }
            let teacher = TeacherOutputs(images: partImages[index], layers: layers, frozen: inputs.frozen)
            let stored = PartRows(
                samples: {
                    if case .samples(let indices) = part.inputs { Array(indices[ranges[index]]) } else { nil }
                }(),
                range: ranges[index], dataset: inputs.dataset, tensors: inputs.tensors)
            for loss in part.losses {
                let scale = loss.weight / step.normalizer
                let result = LossTerms.evaluate(
                    loss, studentLogits: partLogits, labels: labels, teacher: teacher, tap: tap, rows: partRows,
                    part: stored, throughTeacher: step.target == .inputs)
                if let gradient = result.teacherInputGradient {
                    teacherInputGradients[index, default: Tensor(zeros: gradient.shape)].add(gradient, scaledBy: scale)
                }
                weightedLoss += Double(loss.weight) * Double(result.value)
                if let gradient = result.logitsGradient {
                    logitsGradient.addRows(gradient, at: partRows.lowerBound, scaledBy: scale)
                }
                for (path, gradient) in result.featureGradients {
                    tap!.gradients[path, default: Tensor(zeros: gradient.shape)].add(gradient, scaledBy: scale)
                }
            }
        }
        let finished = step.target == .parameters ? gradientsFinished.map(student.reportingIndices) : nil
        let inputGradient = student.backward(
            logitsGradient, tap: tap, inputGradient: step.target == .inputs, gradientsFinished: finished)
        return ShardResult(
            parameterGradients: step.target == .parameters ? student.namedParameters.map(\.parameter.grad) : [],
            weightedLoss: weightedLoss, correct: correct,
            inputGradients: step.parts.indices.map { index -> Tensor? in
                guard step.target == .inputs, case .tensorRows = step.parts[index].inputs else { return nil }
                var gradient = inputGradient.slice(rows: offsets[index]..<offsets[index + 1])
                if let throughTeacher = teacherInputGradients[index] { gradient.add(throughTeacher) }
                return gradient
            }, batchStatistics: batchStatistics)
    }

    /// Shard `index` of `step` as a step of its own, for a worker: every part cut to the shard's rows, state-tensor
    /// rows gathered into tensors named "input/<part>" (returned alongside), and the seed advanced by `index`.
    /// Computing it as shard 0 of 1 gives the bits `compute(step, shard: index, of: count, …)` gives.
    public static func task(_ step: GradientStep, shard index: Int, of count: Int, tensors: [String: Tensor])
        -> (step: GradientStep, tensors: [String: Tensor])
    {
        var cut = step
        var inputs: [String: Tensor] = [:]
        for (partIndex, part) in step.parts.enumerated() {
            let range = rows(ofShard: index, count: count, batch: part.labels.count)
            let source: InputSource
            switch part.inputs {
            case .samples(let indices):
                source = .samples(Array(indices[range]))
            case .tensorRows(let name, let tensorRows):
                guard let tensor = tensors[name] else { preconditionFailure("the plan state has no tensor '\(name)'") }
                let inputName = "input/\(partIndex)"
                inputs[inputName] = tensor.gather(rows: Array(tensorRows[range]))
                source = .tensorRows(name: inputName, rows: Array(0..<range.count))
            }
            var losses = part.losses
            for (lossIndex, loss) in part.losses.enumerated() {
                let name = "input/\(partIndex)/loss/\(lossIndex)"
                switch loss {
                case .absoluteError(.tensorRows(let tensor, let targetRows), let weight),
                    .squaredError(.tensorRows(let tensor, let targetRows), let weight):
                    inputs[name] = stateRows(tensors, tensor, Array(targetRows[range]))
                    let target = RegressionTarget.tensorRows(name: name, rows: Array(0..<range.count))
                    if case .absoluteError = loss {
                        losses[lossIndex] = .absoluteError(target: target, weight: weight)
                    } else {
                        losses[lossIndex] = .squaredError(target: target, weight: weight)
                    }
                case .storedDistillation(let logits, let logitRows, let temperature, let weight):
                    inputs[name] = stateRows(tensors, logits, Array(logitRows[range]))
                    losses[lossIndex] = .storedDistillation(
                        logits: name, rows: Array(0..<range.count), temperature: temperature, weight: weight)
                case .attentionToMaps(let maps, let mapRows, let layers, let weight):
                    for layer in layers {
                        inputs[name + "/" + layer] = stateRows(tensors, maps + layer, Array(mapRows[range]))
                    }
                    losses[lossIndex] = .attentionToMaps(
                        maps: name + "/", rows: Array(0..<range.count), layers: layers, weight: weight)
                default: break
                }
            }
            cut.parts[partIndex] = BatchPart(inputs: source, labels: Array(part.labels[range]), losses: losses)
        }
        cut.seed = step.seed &+ UInt64(index)
        return (cut, inputs)
    }

    /// Sums shard results in shard order into the step's outcome; parameter gradients go to `student`'s `grad`.
    public static func combine(_ shards: [ShardResult], of step: GradientStep, into student: Model) -> StepOutcome {
        precondition(!shards.isEmpty, "a step has at least one shard")
        if step.target == .parameters {
            var totals = shards[0].parameterGradients
            for shard in shards.dropFirst() {
                for index in totals.indices { totals[index].add(shard.parameterGradients[index]) }
            }
            for ((_, parameter), total) in zip(student.namedParameters, totals) { parameter.grad = total }
        }
        let norms = student.batchNorms
        for shard in shards {
            for (norm, statistics) in zip(norms, shard.batchStatistics) {
                norm.updateRunningStatistics(with: statistics)
            }
        }
        var loss = 0.0
        var correct = [Int](repeating: 0, count: step.parts.count)
        for shard in shards {
            loss += shard.weightedLoss
            for index in correct.indices { correct[index] += shard.correct[index] }
        }
        let inputGradients: [Tensor?] = step.parts.indices.map { index in
            let pieces = shards.compactMap { $0.inputGradients[index] }.filter { $0.shape[0] > 0 }
            return pieces.isEmpty ? nil : Tensor.concatenate(pieces)
        }
        return StepOutcome(
            loss: loss / Double(step.normalizer), correct: correct, rows: step.parts.map(\.labels.count),
            inputGradients: inputGradients)
    }

    private static func stateRows(_ tensors: [String: Tensor], _ name: String, _ rows: [Int]) -> Tensor {
        guard let tensor = tensors[name] else { preconditionFailure("the plan state has no tensor '\(name)'") }
        return tensor.gather(rows: rows)
    }

    private static func images(of source: InputSource, rows: Range<Int>, _ inputs: ShardInputs) -> Tensor {
        switch source {
        case .samples(let indices):
            return inputs.dataset.batch(indices: Array(indices[rows])).images
        case .tensorRows(let name, let tensorRows):
            guard let tensor = inputs.tensors[name] else {
                preconditionFailure("the plan state has no tensor '\(name)'")
            }
            return tensor.gather(rows: Array(tensorRows[rows]))
        }
    }
}

extension Model {
    /// A `backward` callback that reports parameters by their index in `namedParameters`.
    fileprivate func reportingIndices(_ report: @escaping ([Int]) -> Void) -> ([Parameter]) -> Void {
        let positions = Dictionary(
            uniqueKeysWithValues: namedParameters.enumerated().map { (ObjectIdentifier($1.parameter), $0) })
        return { report($0.compactMap { positions[ObjectIdentifier($0)] }) }
    }
}
