import LetheProtoC
import Unlearning

/// Maps `Body` to the envelope's oneof body and back. Decoding validates every field it reads.
enum EnvelopeBody {
    static func encode(_ body: Body, into root: UnsafeMutablePointer<Lethe__Envelope>, _ arena: CArena) {
        switch body {
        case .hello(let hello):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_HELLO
            root.pointee.hello = arena.new {
                lethe__hello__init($0)
                $0.pointee.name = arena.string(hello.name)
                $0.pointee.kernel_identity = arena.string(hello.kernelIdentity)
                $0.pointee.threads = UInt32(clamping: hello.threads)
                $0.pointee.software_version = arena.string(hello.softwareVersion)
                $0.pointee.role = Lethe__Hello__Role(rawValue: UInt32(hello.role.rawValue))
                $0.pointee.n_class_counts = hello.classCounts.count
                $0.pointee.class_counts = arena.array(hello.classCounts.map { UInt32(clamping: $0) })
                $0.pointee.partition = arena.string(hello.partition)
                $0.pointee.takes_weight_parts = hello.takesWeightParts ? 1 : 0
            }
        case .welcome(let welcome):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_WELCOME
            root.pointee.welcome = arena.new {
                lethe__welcome__init($0)
                $0.pointee.coordinator_kernel_identity = arena.string(welcome.coordinatorKernelIdentity)
                $0.pointee.heartbeat_interval_ms = UInt32(clamping: welcome.heartbeatIntervalMilliseconds)
                $0.pointee.liveness = UInt32(clamping: welcome.liveness)
            }
        case .ready(let credit):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_READY
            root.pointee.ready = arena.new {
                lethe__ready__init($0)
                $0.pointee.credit = UInt32(clamping: credit)
            }
        case .heartbeat:
            root.pointee.body_case = LETHE__ENVELOPE__BODY_HEARTBEAT
            root.pointee.heartbeat = arena.new { lethe__heartbeat__init($0) }
        case .goodbye(let reason):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_GOODBYE
            root.pointee.goodbye = arena.new {
                lethe__goodbye__init($0)
                $0.pointee.reason = arena.string(reason)
            }
        case .shardTask(let task):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_SHARD_TASK
            root.pointee.shard_task = StepCoding.encode(task, arena)
        case .shardResult(let report):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_SHARD_RESULT
            root.pointee.shard_result = arena.new {
                lethe__shard_result__init($0)
                $0.pointee.id = StepCoding.encode(report.id, arena)
                $0.pointee.weighted_loss = report.weightedLoss
                $0.pointee.n_correct = report.correct.count
                $0.pointee.correct = arena.array(report.correct.map { UInt32(clamping: $0) })
                $0.pointee.n_predicted = report.predicted.count
                $0.pointee.predicted = arena.array(report.predicted.map { UInt32(clamping: $0) })
                $0.pointee.seconds = report.seconds
            }
        case .shardResultPart(let id):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_SHARD_RESULT_PART
            root.pointee.shard_result_part = arena.new {
                lethe__shard_result_part__init($0)
                $0.pointee.id = StepCoding.encode(id, arena)
            }
        case .shardTaskWeights(let id):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_SHARD_TASK_WEIGHTS
            root.pointee.shard_task_weights = arena.new {
                lethe__shard_task_weights__init($0)
                $0.pointee.id = StepCoding.encode(id, arena)
            }
        case .blobRequest(let request):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_BLOB_REQUEST
            root.pointee.blob_request = arena.new {
                lethe__blob_request__init($0)
                $0.pointee.sha256 = arena.string(request.sha256)
                $0.pointee.offset = UInt64(clamping: request.offset)
                $0.pointee.max_bytes = UInt32(clamping: request.maximumBytes)
            }
        case .blobChunk(let chunk):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_BLOB_CHUNK
            root.pointee.blob_chunk = chunk.encode(lethe__blob_chunk__init, arena)
        case .error(let error):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_ERROR
            root.pointee.error = arena.new {
                lethe__error__init($0)
                $0.pointee.code = Lethe__Error__Code(rawValue: UInt32(error.code.rawValue))
                $0.pointee.message = arena.string(error.message)
            }
        case .round(let round):
            RoundCoding.encode(round, into: root, arena)
        case .control(let control):
            ControlCoding.encode(control, into: root, arena)
        }
    }

    static func decode(_ root: Lethe__Envelope) throws(WireError) -> Body {
        if let control = try ControlCoding.decode(root) { return .control(control) }
        if let round = try RoundCoding.decode(root) { return .round(round) }
        switch root.body_case {
        case LETHE__ENVELOPE__BODY_HELLO:
            let hello = try present(root.hello, "hello")
            guard let role = Hello.Role(rawValue: Int(hello.role.rawValue)) else {
                throw .invalidField("hello role #\(hello.role.rawValue) is unknown")
            }
            guard hello.n_class_counts <= WireProtocol.Limits.classes else {
                throw .invalidField("\(hello.n_class_counts) class counts exceed \(WireProtocol.Limits.classes)")
            }
            return .hello(
                Hello(
                    name: CRead.string(hello.name), kernelIdentity: CRead.string(hello.kernel_identity),
                    threads: Int(hello.threads), softwareVersion: CRead.string(hello.software_version), role: role,
                    classCounts: CRead.ints(hello.class_counts, hello.n_class_counts),
                    partition: CRead.string(hello.partition), takesWeightParts: hello.takes_weight_parts != 0))
        case LETHE__ENVELOPE__BODY_WELCOME:
            let welcome = try present(root.welcome, "welcome")
            return .welcome(
                Welcome(
                    coordinatorKernelIdentity: CRead.string(welcome.coordinator_kernel_identity),
                    heartbeatIntervalMilliseconds: Int(welcome.heartbeat_interval_ms),
                    liveness: Int(welcome.liveness)))
        case LETHE__ENVELOPE__BODY_READY:
            return .ready(credit: Int(try present(root.ready, "ready").credit))
        case LETHE__ENVELOPE__BODY_HEARTBEAT:
            return .heartbeat
        case LETHE__ENVELOPE__BODY_GOODBYE:
            return .goodbye(reason: CRead.string(try present(root.goodbye, "goodbye").reason))
        case LETHE__ENVELOPE__BODY_SHARD_TASK:
            return .shardTask(try StepCoding.decode(try present(root.shard_task, "shard task")))
        case LETHE__ENVELOPE__BODY_SHARD_RESULT:
            let result = try present(root.shard_result, "shard result")
            return .shardResult(
                ShardReport(
                    id: try StepCoding.decode(try present(result.id, "shard result id")),
                    weightedLoss: result.weighted_loss, correct: CRead.ints(result.correct, result.n_correct),
                    predicted: CRead.ints(result.predicted, result.n_predicted), seconds: result.seconds))
        case LETHE__ENVELOPE__BODY_SHARD_TASK_WEIGHTS:
            let weights = try present(root.shard_task_weights, "shard task weights")
            return .shardTaskWeights(try StepCoding.decode(try present(weights.id, "shard task weights id")))
        case LETHE__ENVELOPE__BODY_SHARD_RESULT_PART:
            let part = try present(root.shard_result_part, "shard result part")
            return .shardResultPart(try StepCoding.decode(try present(part.id, "shard result part id")))
        case LETHE__ENVELOPE__BODY_BLOB_REQUEST:
            let request = try present(root.blob_request, "blob request")
            return .blobRequest(
                BlobRequest(
                    sha256: try sha256(request.sha256), offset: try count(request.offset, "offset"),
                    maximumBytes: Int(request.max_bytes)))
        case LETHE__ENVELOPE__BODY_BLOB_CHUNK:
            return .blobChunk(try BlobChunk(decoding: try present(root.blob_chunk, "blob chunk")))
        case LETHE__ENVELOPE__BODY_ERROR:
            let error = try present(root.error, "error")
            return .error(
                ProtocolError(
                    ProtocolError.Code(rawValue: Int(error.code.rawValue)) ?? .unspecified,
                    CRead.string(error.message)))
        case LETHE__ENVELOPE__BODY__NOT_SET:
            throw .invalidField("the envelope has no body")
        default:
            throw .invalidField("body #\(root.body_case.rawValue) is unknown")
        }
    }

    static func present<T>(_ pointer: UnsafeMutablePointer<T>?, _ what: String) throws(WireError) -> T {
        guard let pointer else { throw .invalidField("\(what) is missing") }
        return pointer.pointee
    }

    /// A lowercase hex SHA-256 (64 characters), the only blob address the protocol knows.
    static func sha256(_ pointer: UnsafePointer<CChar>?) throws(WireError) -> String {
        try lowercaseHex(pointer, digits: 64, "a lowercase hex SHA-256")
    }

    /// A weights version: 16 lowercase hex digits.
    static func weightsVersion(_ pointer: UnsafePointer<CChar>?) throws(WireError) -> String {
        try lowercaseHex(pointer, digits: 16, "a weights version (16 lowercase hex digits)")
    }

    private static func lowercaseHex(_ pointer: UnsafePointer<CChar>?, digits: Int, _ what: String)
        throws(WireError) -> String
    {
        let value = CRead.string(pointer)
        guard value.utf8.count == digits, value.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { throw .invalidField("'\(value.prefix(80))' is not \(what)") }
        return value
    }

    /// A SHA-256 that may be absent (the empty string).
    static func optionalSHA256(_ pointer: UnsafePointer<CChar>?) throws(WireError) -> String? {
        CRead.string(pointer).isEmpty ? nil : try sha256(pointer)
    }

    static func count(_ value: UInt64, _ what: String) throws(WireError) -> Int {
        guard value <= UInt64(Int32.max) * 1024 else { throw .invalidField("\(what) \(value) is out of range") }
        return Int(value)
    }
}
