import Testing
import Unlearning

@testable import Wire

/// Every message of every protocol, as the side that sends it: each survives a round trip, and decoded as what
/// any other side sends it is either the same message (heartbeats, errors, …) or refused with that side's words.
struct ProtocolMessagesTests {
    static let id = TaskID(job: "job-1", phase: 2, step: 17, shard: 3, attempt: 1)
    static let hello = Hello(name: "w1", kernelIdentity: "SkylakeX/x86_64", threads: 2, softwareVersion: "0.4")
    static let welcome = Welcome(coordinatorKernelIdentity: "Haswell", heartbeatIntervalMilliseconds: 500, liveness: 4)
    static let error = ProtocolError(.unknownJob, "no job 'x'")
    static let chunk = BlobChunk(sha256: hashB, offset: 7, totalBytes: 10, data: [1, 2, 3])
    static let request = BlobRequest(sha256: hashB, offset: 1 << 20, maximumBytes: 4096)

    static let fromWorkers: [WorkerToCoordinator] = [
        .hello(hello), .ready(credit: 3), .heartbeat, .goodbye(reason: "shutting down"),
        .shardResult(ShardReport(id: id, weightedLoss: -1.25, correct: [2, 0], predicted: [5], seconds: 0.5)),
        .shardResultPart(id), .blobRequest(request), .error(error),
    ]
    static let toWorkers: [CoordinatorToWorker] = [
        .welcome(welcome), .heartbeat,
        .shardTask(ShardTask(id: id, context: sampleContext, work: .gradient(sampleStep))),
        .shardTask(ShardTask(id: id, context: sampleContext, work: .gradient(sampleStep), gradientPartBytes: 1 << 18)),
        .shardTask(
            ShardTask(
                id: id, context: sampleContext,
                work: .prediction(PredictionRequest(subject: .frozen(.original), indices: [3, 1, 2])))),
        .shardTask(
            ShardTask(
                id: id, context: sampleContext, work: .prediction(PredictionRequest(subject: .student, indices: [])))),
        .blobChunk(chunk), .error(error),
    ]
    static let fromClients: [ClientToCoordinator] = [
        .hello(
            Hello(
                name: "c3", kernelIdentity: "k", threads: 1, softwareVersion: "0.4", role: .client,
                classCounts: [5, 0, 7], partition: "3/10 dirichlet:0.5 seed 1")),
        .heartbeat, .goodbye(reason: "done"),
        .roundUpdate(
            RoundUpdate(
                job: "job-3", round: 7, kind: .evaluate, samples: 600, meanLoss: 0.25, seconds: 1.5, correct: [1],
                total: [2])),
        .error(error),
    ]
    static let toClients: [CoordinatorToClient] = [
        .welcome(welcome), .heartbeat,
        .roundTask(
            RoundTask(
                job: "job-3", round: 7, kind: .train, architecture: "fmnist-cnn", epochs: 2, batchSize: 32,
                learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, seed: 1, radius: 2.5, membershipSamples: 10)),
        .error(error),
    ]
    static let requests: [ControlRequest] = [
        .jobSubmit(sampleSpec), .jobSubmit(auditedSpec), .jobQuery(id: "j-1"), .jobList, .jobCancel(id: "j-1"),
        .jobResultRequest(id: "j-1"),
        .workerQuery, .blobOffer(BlobOffer(sha256: hashA, totalBytes: 1 << 30, kind: "dataset")),
        .blobUpload(BlobChunk(sha256: hashA, offset: 0, totalBytes: 2, data: [9, 9])), .blobRequest(request),
    ]
    static let replies: [ControlReply] = [
        .jobAccepted(id: "j-1"), .jobStatus(sampleStatus), .jobList([sampleStatus, sampleStatus]), .jobList([]),
        .jobResult(JobOutputs(id: "j-1", weightsSHA256: hashA, reportSHA256: hashB, htmlSHA256: hashA)),
        .jobResult(
            JobOutputs(
                id: "j-2", weightsSHA256: hashA, reportSHA256: hashB, htmlSHA256: hashA, ledgerSHA256: hashB,
                certificateSHA256: hashB)),
        .workerList([
            WorkerSummary(
                name: "w", key: "k", kernelIdentity: "openblas/Haswell", state: "ready", tasksDone: 3, lastSeen: 5,
                kernelMatches: true)
        ]),
        .blobStored(BlobStored(sha256: hashA, storedBytes: 2, complete: true)), .blobChunk(chunk), .error(error),
    ]

    static let sides: [any WireMessage.Type] = [
        WorkerToCoordinator.self, CoordinatorToWorker.self, ClientToCoordinator.self, CoordinatorToClient.self,
        ControlRequest.self, ControlReply.self,
    ]

    @Test func everyMessageSurvivesARoundTrip() throws {
        try check(Self.fromWorkers)
        try check(Self.toWorkers)
        try check(Self.fromClients)
        try check(Self.toClients)
        try check(Self.requests)
        try check(Self.replies)
    }

    /// Round-trips each message, then decodes it as what every side sends.
    private func check<Message: WireMessage>(_ messages: [Message]) throws {
        for message in messages {
            let envelope = Envelope(message, requestID: 99)
            #expect(try roundTrip(envelope) == envelope, "\(message.kind)")
            let frames = WireCodec.encode(envelope).map(\.array)
            for side in Self.sides { try decode(frames, of: message, as: side) }
        }
    }

    private func decode<Sent: WireMessage, Side: WireMessage>(_ frames: [[UInt8]], of sent: Sent, as side: Side.Type)
        throws
    {
        if let same = Side(sent.body) {
            #expect(try WireCodec.decode(frames, as: side).message == same, "\(sent.kind) as \(side)")
        } else {
            let refusal = WireError.unexpected(kind: sent.kind, requestID: 99, refusal: Side.refusal(of: sent.kind))
            #expect(throws: refusal, "\(sent.kind) as \(side)") { try WireCodec.decode(frames, as: side) }
        }
    }

    @Test func anotherSidesMessageIsRefusedInTheReceiversWords() throws {
        func refusal<Side: WireMessage>(_ message: some WireMessage, as side: Side.Type) -> String? {
            let frames = WireCodec.encode(Envelope(message, requestID: 5)).map(\.array)
            do throws(WireError) {
                _ = try WireCodec.decode(frames, as: side)
            } catch {
                guard case .unexpected(_, 5, let refusal) = error, refusal.code == .badRequest else { return nil }
                return refusal.message
            }
            return nil
        }
        #expect(
            refusal(ControlRequest.jobQuery(id: "j"), as: WorkerToCoordinator.self)
                == "a worker does not send job query")
        #expect(
            refusal(WorkerToCoordinator.ready(credit: 1), as: ClientToCoordinator.self)
                == "a client does not send ready")
        #expect(
            refusal(WorkerToCoordinator.ready(credit: 1), as: ControlRequest.self)
                == "the control endpoint does not take ready messages")
        #expect(
            refusal(CoordinatorToWorker.welcome(Self.welcome), as: WorkerToCoordinator.self)
                == "a worker does not send welcome")
    }

    /// The sides share bodies, not bytes of their own: the same message is the same bytes whoever sends it.
    @Test func sharedMessagesAreTheSameBytesOnTheWire() {
        func bytes(_ message: some WireMessage) -> [[UInt8]] { WireCodec.encode(Envelope(message)).map(\.array) }
        #expect(bytes(ControlRequest.jobList) == bytes(ControlReply.jobList([])))
        #expect(bytes(WorkerToCoordinator.hello(Self.hello)) == bytes(ClientToCoordinator.hello(Self.hello)))
        #expect(bytes(WorkerToCoordinator.heartbeat) == bytes(CoordinatorToClient.heartbeat))
        #expect(bytes(CoordinatorToWorker.blobChunk(Self.chunk)) == bytes(ControlReply.blobChunk(Self.chunk)))
    }
}
