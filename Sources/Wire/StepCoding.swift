import LetheProtoC
import Unlearning

/// Shard tasks: task ids, job contexts, gradient steps and prediction requests to protobuf-c and back.
enum StepCoding {
    static func encode(_ task: ShardTask, _ arena: CArena) -> UnsafeMutablePointer<Lethe__ShardTask> {
        arena.new {
            lethe__shard_task__init($0)
            $0.pointee.id = encode(task.id, arena)
            $0.pointee.context = arena.new { context in
                lethe__job_context__init(context)
                context.pointee.dataset_sha256 = arena.string(task.context.datasetSHA256)
                context.pointee.original_sha256 = arena.string(task.context.originalSHA256)
                context.pointee.architecture = arena.string(task.context.architecture)
                context.pointee.weights_version = arena.string(task.context.weightsVersion)
                context.pointee.weights_included = task.context.weightsIncluded ? 1 : 0
            }
            switch task.work {
            case .gradient(let step):
                $0.pointee.work_case = LETHE__SHARD_TASK__WORK_GRADIENT
                $0.pointee.gradient = encode(step, arena)
            case .prediction(let request):
                $0.pointee.work_case = LETHE__SHARD_TASK__WORK_PREDICTION
                $0.pointee.prediction = arena.new { work in
                    lethe__prediction_work__init(work)
                    if case .frozen(let frozen) = request.subject { work.pointee.frozen = encode(frozen, arena) }
                    work.pointee.n_indices = request.indices.count
                    work.pointee.indices = arena.array(request.indices.map { UInt32(clamping: $0) })
                }
            }
            $0.pointee.gradient_part_bytes = UInt64(task.gradientPartBytes)
        }
    }

    static func encode(_ id: TaskID, _ arena: CArena) -> UnsafeMutablePointer<Lethe__TaskId> {
        arena.new {
            lethe__task_id__init($0)
            $0.pointee.job = arena.string(id.job)
            $0.pointee.phase = UInt32(clamping: id.phase)
            $0.pointee.step = UInt32(clamping: id.step)
            $0.pointee.shard = UInt32(clamping: id.shard)
            $0.pointee.attempt = UInt32(clamping: id.attempt)
        }
    }

    static func encode(_ step: GradientStep, _ arena: CArena) -> UnsafeMutablePointer<Lethe__GradientWork> {
        let parts = step.parts.map { part -> UnsafeMutablePointer<Lethe__BatchPart>? in
            arena.new {
                lethe__batch_part__init($0)
                switch part.inputs {
                case .samples(let indices):
                    $0.pointee.n_samples = indices.count
                    $0.pointee.samples = arena.array(indices.map { UInt32(clamping: $0) })
                case .tensorRows(let name, _):
                    $0.pointee.tensor_input = arena.string(name)
                }
                $0.pointee.n_labels = part.labels.count
                $0.pointee.labels = arena.array(part.labels.map { UInt32(clamping: $0) })
                let losses = part.losses.map { encode($0, arena) as UnsafeMutablePointer<Lethe__LossTerm>? }
                $0.pointee.n_losses = losses.count
                $0.pointee.losses = arena.array(losses)
            }
        }
        return arena.new {
            lethe__gradient_work__init($0)
            $0.pointee.n_parts = parts.count
            $0.pointee.parts = arena.array(parts)
            $0.pointee.normalizer = step.normalizer
            $0.pointee.differentiate_inputs = step.target == .inputs ? 1 : 0
            $0.pointee.is_training = step.isTraining ? 1 : 0
            $0.pointee.seed = step.seed
        }
    }

    static func encode(_ loss: LossComponent, _ arena: CArena) -> UnsafeMutablePointer<Lethe__LossTerm> {
        arena.new {
            lethe__loss_term__init($0)
            $0.pointee.weight = loss.weight
            switch loss {
            case .crossEntropy:
                $0.pointee.kind = LETHE__LOSS_TERM__KIND__CROSS_ENTROPY
            case .distillation(let teacher, let temperature, _):
                $0.pointee.kind = LETHE__LOSS_TERM__KIND__DISTILLATION
                $0.pointee.teacher = encode(teacher, arena)
                $0.pointee.temperature = temperature
            case .storedDistillation(let logits, _, let temperature, _):
                $0.pointee.kind = LETHE__LOSS_TERM__KIND__DISTILLATION
                $0.pointee.stored_tensor = arena.string(logits)
                $0.pointee.temperature = temperature
            case .featureMatching(let teacher, let layers, _), .attentionTransfer(let teacher, let layers, _):
                if case .attentionTransfer = loss {
                    $0.pointee.kind = LETHE__LOSS_TERM__KIND__ATTENTION_TRANSFER
                } else {
                    $0.pointee.kind = LETHE__LOSS_TERM__KIND__FEATURE_MATCHING
                }
                $0.pointee.teacher = encode(teacher, arena)
                $0.pointee.n_layers = layers.count
                $0.pointee.layers = arena.array(layers.map { arena.string($0) as UnsafeMutablePointer<CChar>? })
            case .absoluteError(let target, _), .squaredError(let target, _):
                if case .absoluteError = loss {
                    $0.pointee.kind = LETHE__LOSS_TERM__KIND__ABSOLUTE_ERROR
                } else {
                    $0.pointee.kind = LETHE__LOSS_TERM__KIND__SQUARED_ERROR
                }
                if case .tensorRows(let name, _) = target { $0.pointee.stored_tensor = arena.string(name) }
            case .attentionToMaps(let maps, _, let layers, _):
                $0.pointee.kind = LETHE__LOSS_TERM__KIND__ATTENTION_TO_MAPS
                $0.pointee.stored_tensor = arena.string(maps)
                $0.pointee.n_layers = layers.count
                $0.pointee.layers = arena.array(layers.map { arena.string($0) as UnsafeMutablePointer<CChar>? })
            }
        }
    }

    static func encode(_ frozen: FrozenModel, _ arena: CArena) -> UnsafeMutablePointer<Lethe__FrozenModel> {
        arena.new {
            lethe__frozen_model__init($0)
            switch frozen {
            case .original:
                $0.pointee.which_case = LETHE__FROZEN_MODEL__WHICH_ORIGINAL
                $0.pointee.original = 1
            case .randomInitialization(let seed):
                $0.pointee.which_case = LETHE__FROZEN_MODEL__WHICH_RANDOM_INITIALIZATION_SEED
                $0.pointee.random_initialization_seed = seed
            }
        }
    }

    // MARK: decoding

    static func decode(_ task: Lethe__ShardTask) throws(WireError) -> ShardTask {
        let id = try decode(try EnvelopeBody.present(task.id, "task id"))
        let context = try EnvelopeBody.present(task.context, "job context")
        let work: ShardWork
        switch task.work_case {
        case LETHE__SHARD_TASK__WORK_GRADIENT:
            work = .gradient(try decode(try EnvelopeBody.present(task.gradient, "gradient work")))
        case LETHE__SHARD_TASK__WORK_PREDICTION:
            let prediction = try EnvelopeBody.present(task.prediction, "prediction work")
            var subject = PredictionRequest.Subject.student
            if let frozen = prediction.frozen { subject = .frozen(try decode(frozen.pointee)) }
            work = .prediction(
                PredictionRequest(subject: subject, indices: CRead.ints(prediction.indices, prediction.n_indices)))
        default:
            throw .invalidField("shard task \(id) has no work")
        }
        return ShardTask(
            id: id,
            context: JobContext(
                datasetSHA256: try EnvelopeBody.sha256(context.dataset_sha256),
                originalSHA256: try EnvelopeBody.sha256(context.original_sha256),
                architecture: CRead.string(context.architecture),
                weightsVersion: try EnvelopeBody.weightsVersion(context.weights_version),
                weightsIncluded: context.weights_included != 0),
            work: work, gradientPartBytes: Int(clamping: task.gradient_part_bytes))
    }

    static func decode(_ id: Lethe__TaskId) throws(WireError) -> TaskID {
        let job = CRead.string(id.job)
        guard !job.isEmpty else { throw .invalidField("a task id needs a job") }
        return TaskID(
            job: job, phase: Int(id.phase), step: Int(id.step), shard: Int(id.shard), attempt: Int(id.attempt))
    }

    static func decode(_ work: Lethe__GradientWork) throws(WireError) -> GradientStep {
        guard work.normalizer.isFinite, work.normalizer > 0 else {
            throw .invalidField("normalizer \(work.normalizer) must be positive")
        }
        var parts: [BatchPart] = []
        for part in CRead.messages(work.parts, work.n_parts) {
            let labels = CRead.ints(part.labels, part.n_labels)
            let samples = CRead.ints(part.samples, part.n_samples)
            let tensorName = CRead.string(part.tensor_input)
            let inputs: InputSource
            if tensorName.isEmpty {
                guard samples.count == labels.count else {
                    throw .invalidField("a batch part has \(samples.count) samples but \(labels.count) labels")
                }
                inputs = .samples(samples)
            } else {
                guard samples.isEmpty else { throw .invalidField("a batch part has both samples and a tensor input") }
                inputs = .tensorRows(name: tensorName, rows: Array(labels.indices))
            }
            var losses: [LossComponent] = []
            for loss in CRead.messages(part.losses, part.n_losses) {
                losses.append(try decode(loss, rows: labels.count, samples: tensorName.isEmpty))
            }
            parts.append(BatchPart(inputs: inputs, labels: labels, losses: losses))
        }
        return GradientStep(
            parts: parts, normalizer: work.normalizer, target: work.differentiate_inputs != 0 ? .inputs : .parameters,
            isTraining: work.is_training != 0, seed: work.seed)
    }

    /// A part's loss term; stored rows (regression targets, attention maps, teacher logits) are rows 0..<`rows` of
    /// their frames.
    static func decode(_ loss: Lethe__LossTerm, rows: Int, samples: Bool) throws(WireError) -> LossComponent {
        guard loss.weight.isFinite else { throw .invalidField("loss weight \(loss.weight) is not finite") }
        let stored = CRead.string(loss.stored_tensor)
        switch loss.kind {
        case LETHE__LOSS_TERM__KIND__ABSOLUTE_ERROR, LETHE__LOSS_TERM__KIND__SQUARED_ERROR:
            guard !stored.isEmpty || samples else {
                throw .invalidField("a regression term on generated inputs needs a stored target tensor")
            }
            let target: RegressionTarget = stored.isEmpty ? .dataset : .tensorRows(name: stored, rows: Array(0..<rows))
            return loss.kind == LETHE__LOSS_TERM__KIND__ABSOLUTE_ERROR
                ? .absoluteError(target: target, weight: loss.weight)
                : .squaredError(target: target, weight: loss.weight)
        case LETHE__LOSS_TERM__KIND__ATTENTION_TO_MAPS:
            let layers = CRead.strings(loss.layers, loss.n_layers)
            guard !layers.isEmpty, !stored.isEmpty else {
                throw .invalidField("attention to stored maps needs layers and a stored tensor name")
            }
            return .attentionToMaps(maps: stored, rows: Array(0..<rows), layers: layers, weight: loss.weight)
        case LETHE__LOSS_TERM__KIND__CROSS_ENTROPY:
            return .crossEntropy(weight: loss.weight)
        case LETHE__LOSS_TERM__KIND__DISTILLATION:
            guard loss.temperature.isFinite, loss.temperature > 0 else {
                throw .invalidField("distillation temperature \(loss.temperature) must be positive")
            }
            guard stored.isEmpty else {
                return .storedDistillation(
                    logits: stored, rows: Array(0..<rows), temperature: loss.temperature, weight: loss.weight)
            }
            return .distillation(
                teacher: try decode(try EnvelopeBody.present(loss.teacher, "distillation teacher")),
                temperature: loss.temperature, weight: loss.weight)
        case LETHE__LOSS_TERM__KIND__FEATURE_MATCHING, LETHE__LOSS_TERM__KIND__ATTENTION_TRANSFER:
            let layers = CRead.strings(loss.layers, loss.n_layers)
            guard !layers.isEmpty else { throw .invalidField("feature matching needs at least one layer") }
            let teacher = try decode(try EnvelopeBody.present(loss.teacher, "feature teacher"))
            return loss.kind == LETHE__LOSS_TERM__KIND__ATTENTION_TRANSFER
                ? .attentionTransfer(teacher: teacher, layers: layers, weight: loss.weight)
                : .featureMatching(teacher: teacher, layers: layers, weight: loss.weight)
        default:
            throw .invalidField("unknown loss kind \(loss.kind.rawValue)")
        }
    }

    static func decode(_ frozen: Lethe__FrozenModel) throws(WireError) -> FrozenModel {
        switch frozen.which_case {
        case LETHE__FROZEN_MODEL__WHICH_ORIGINAL: return .original
        case LETHE__FROZEN_MODEL__WHICH_RANDOM_INITIALIZATION_SEED:
            return .randomInitialization(seed: frozen.random_initialization_seed)
        default: throw .invalidField("a frozen model must be the original or a seeded initialisation")
        }
    }
}
