import LetheProtoC

/// The federated client ⇄ coordinator messages to protobuf-c and back.
enum RoundCoding {
    /// Sets the envelope's body to a round body.
    static func encode(_ body: RoundBody, into root: UnsafeMutablePointer<Lethe__Envelope>, _ arena: CArena) {
        switch body {
        case .task(let task):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_ROUND_TASK
            root.pointee.round_task = arena.new {
                lethe__round_task__init($0)
                $0.pointee.job = arena.string(task.job)
                $0.pointee.round = UInt32(clamping: task.round)
                $0.pointee.kind = Lethe__RoundTask__Kind(rawValue: UInt32(task.kind.rawValue))
                $0.pointee.architecture = arena.string(task.architecture)
                $0.pointee.epochs = UInt32(clamping: task.epochs)
                $0.pointee.batch_size = UInt32(clamping: task.batchSize)
                $0.pointee.learning_rate = task.learningRate
                $0.pointee.momentum = task.momentum
                $0.pointee.weight_decay = task.weightDecay
                $0.pointee.seed = task.seed
                $0.pointee.radius = task.radius
                $0.pointee.membership_samples = UInt32(clamping: task.membershipSamples)
            }
        case .update(let update):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_ROUND_UPDATE
            root.pointee.round_update = arena.new {
                lethe__round_update__init($0)
                $0.pointee.job = arena.string(update.job)
                $0.pointee.round = UInt32(clamping: update.round)
                $0.pointee.kind = Lethe__RoundTask__Kind(rawValue: UInt32(update.kind.rawValue))
                $0.pointee.samples = UInt32(clamping: update.samples)
                $0.pointee.mean_loss = update.meanLoss
                $0.pointee.seconds = update.seconds
                $0.pointee.n_correct = update.correct.count
                $0.pointee.correct = arena.array(update.correct.map { UInt32(clamping: $0) })
                $0.pointee.n_total = update.total.count
                $0.pointee.total = arena.array(update.total.map { UInt32(clamping: $0) })
            }
        }
    }

    /// The round message in the envelope, nil for any other body; refuses values no peer can mean.
    static func decode(_ root: Lethe__Envelope) throws(WireError) -> RoundBody? {
        switch root.body_case {
        case LETHE__ENVELOPE__BODY_ROUND_TASK:
            let task = try EnvelopeBody.present(root.round_task, "round task")
            let values = [task.learning_rate, task.momentum, task.weight_decay, task.radius]
            guard values.allSatisfy({ $0.isFinite && $0 >= 0 }), task.batch_size > 0 else {
                throw .invalidField("a round task needs a positive batch size and finite, non-negative rates")
            }
            return .task(
                RoundTask(
                    job: CRead.string(task.job), round: Int(task.round), kind: try kind(task.kind),
                    architecture: CRead.string(task.architecture), epochs: Int(task.epochs),
                    batchSize: Int(task.batch_size), learningRate: task.learning_rate, momentum: task.momentum,
                    weightDecay: task.weight_decay, seed: task.seed, radius: task.radius,
                    membershipSamples: Int(task.membership_samples)))
        case LETHE__ENVELOPE__BODY_ROUND_UPDATE:
            let update = try EnvelopeBody.present(root.round_update, "round update")
            guard update.n_correct == update.n_total, update.n_total <= WireProtocol.Limits.classes else {
                throw .invalidField("a round update needs as many correct counts as totals, per class")
            }
            let correct = CRead.ints(update.correct, update.n_correct)
            let total = CRead.ints(update.total, update.n_total)
            guard zip(correct, total).allSatisfy({ $0 <= $1 }), update.mean_loss.isFinite || update.samples == 0
            else { throw .invalidField("a round update has more correct than total samples or a non-finite loss") }
            return .update(
                RoundUpdate(
                    job: CRead.string(update.job), round: Int(update.round), kind: try kind(update.kind),
                    samples: Int(update.samples), meanLoss: update.mean_loss, seconds: update.seconds,
                    correct: correct, total: total))
        default:
            return nil
        }
    }

    private static func kind(_ value: Lethe__RoundTask__Kind) throws(WireError) -> RoundTask.Kind {
        guard let kind = RoundTask.Kind(rawValue: Int(value.rawValue)) else {
            throw .invalidField("round task kind #\(value.rawValue) is unknown")
        }
        return kind
    }
}
