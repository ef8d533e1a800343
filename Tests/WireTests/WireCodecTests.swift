import Tensor
import Testing
import Unlearning

@testable import Wire

let hashA = String(repeating: "a", count: 64)
let hashB = String(repeating: "0123456789abcdef", count: 4)

func roundTrip<Message: WireMessage>(_ envelope: Envelope<Message>) throws -> Envelope<Message> {
    try WireCodec.decode(WireCodec.encode(envelope).map(\.array))
}

let sampleStep = GradientStep(
    parts: [
        BatchPart(
            inputs: .samples([4, 8, 15]), labels: [1, 2, 3],
            losses: [
                .crossEntropy(weight: 0.5),
                .distillation(teacher: .original, temperature: 4, weight: -1),
            ]),
        BatchPart(
            inputs: .tensorRows(name: "input/1", rows: [0, 1]), labels: [7, 9],
            losses: [
                .featureMatching(teacher: .randomInitialization(seed: 42), layers: ["conv1", "fc1"], weight: 2),
                .attentionTransfer(teacher: .original, layers: ["conv1", "conv2"], weight: 250),
            ]
        ),
        // Regression terms as a shard task carries them: stored rows cut to the shard, in frames "input/…".
        BatchPart(
            inputs: .samples([16, 23]), labels: [0, 0],
            losses: [
                .absoluteError(target: .dataset, weight: 1),
                .absoluteError(target: .tensorRows(name: "input/2/loss/1", rows: [0, 1]), weight: 1),
                .squaredError(target: .dataset, weight: 0.5),
                .attentionToMaps(maps: "input/2/loss/3/", rows: [0, 1], layers: ["conv1", "conv2"], weight: 50),
                .storedDistillation(logits: "input/2/loss/4", rows: [0, 1], temperature: 4, weight: 0.001),
            ]),
    ], normalizer: 5, target: .inputs, isTraining: false, seed: 0xDEAD_BEEF_0000_0001)

let sampleContext = JobContext(
    datasetSHA256: hashA, originalSHA256: hashB, architecture: "fmnist-cnn", weightsVersion: "0123456789abcdef",
    weightsIncluded: true)

let sampleSpec = JobSpec(
    method: "scrub", params: ["lr": "0.01", "epochs": "3"], architecture: "fmnist-cnn", weightsSHA256: hashA,
    trainSHA256: hashB, testSHA256: hashA, scenarioSHA256: hashB, seed: 7, shards: 4, referenceSHA256: nil,
    weightsName: "original.safetensors", forget: "classes 0")

/// A job judged by the membership audit too (its references and data named by an audit bundle's hash), on data
/// a holdout rearranged (the data as loaded travels too).
let auditedSpec = {
    var spec = sampleSpec
    spec.referenceSHA256 = hashA
    spec.auditSHA256 = hashB
    spec.sourceTrainSHA256 = hashA
    spec.sourceTestSHA256 = hashB
    return spec
}()

let sampleStatus = JobStatus(
    id: "j-1", state: .running, method: "scrub", forget: "classes 0",
    phases: [
        PhaseStatus(name: "max epoch 1", completed: 3, total: 10, lastLoss: -0.5, stoppedEarly: true),
        PhaseStatus(name: "min epoch 1", completed: 0, total: 10, lastLoss: nil),
    ], message: "", submittedAt: 1, updatedAt: 2, submittedBy: "key", stepsDone: 3, stepsTotal: 20,
    stage: JobStage.running)

struct WireCodecTests {
    @Test func tensorsTravelAsRawFramesAfterTheEnvelope() throws {
        let tensors = [
            NamedTensor("conv1.weight", Tensor(shape: [2, 1, 2, 2], scalars: (0..<8).map { Float($0) * 0.5 - 1 })),
            NamedTensor("empty", Tensor(zeros: [0, 10])),
            NamedTensor("scalar", Tensor(shape: [], scalars: [.pi])),
        ]
        let envelope = Envelope(CoordinatorToWorker.heartbeat, tensors: tensors)
        let frames = WireCodec.encode(envelope)
        #expect(frames.count == 5)
        #expect(frames[0].array == Array("lethe/1".utf8))
        #expect(frames[2].count == 32)
        #expect(try WireCodec.decode(frames.map(\.array)) == envelope)
    }

    /// A step's weights are encoded once for every worker: frames given already encoded are sent as they are (the
    /// same objects) and the envelope's other tensors encoded after them; the bytes are those of a plain encoding.
    @Test func tensorsGivenEncodedAreSentAsTheyAre() throws {
        let weights = [
            NamedTensor("fc.weight", Tensor(shape: [2, 3], scalars: [1, -2, 3, -4, 5, -6])),
            NamedTensor("fc.bias", Tensor(shape: [2], scalars: [0.5, -0.5])),
        ]
        let rows = NamedTensor("input/0", Tensor(shape: [1, 2], scalars: [7, 8]))
        let shared = weights.map { FramePayload($0.tensor) }
        let envelope = Envelope(CoordinatorToWorker.heartbeat, requestID: 4, tensors: weights + [rows])
        let frames = WireCodec.encode(envelope, encodedTensors: shared)
        #expect(frames.count == 5 && frames[2] === shared[0] && frames[3] === shared[1])
        #expect(frames.map(\.array) == WireCodec.encode(envelope).map(\.array))
        #expect(try WireCodec.decode(frames.map(\.array)) == envelope)
    }

    @Test func wrongVersionIsRefusedWithBothVersionsNamed() throws {
        var frames = WireCodec.encode(Envelope(WorkerToCoordinator.heartbeat)).map(\.array)
        frames[0] = Array("lethe/2".utf8)
        #expect(throws: WireError.wrongVersion(received: "lethe/2")) {
            try WireCodec.decode(frames, as: WorkerToCoordinator.self)
        }
        #expect(WireError.wrongVersion(received: "lethe/2").description.contains("lethe/1"))
        #expect(throws: WireError.missingFrames(count: 1)) {
            try WireCodec.decode([frames[0]], as: ControlRequest.self)
        }
    }

    @Test func tensorFramesMustMatchTheirDescription() throws {
        let frames = WireCodec.encode(
            Envelope(WorkerToCoordinator.heartbeat, tensors: [NamedTensor("w", Tensor(zeros: [3, 2]))])
        ).map(\.array)
        // A frame missing, an extra frame, and a frame of the wrong length.
        #expect(throws: WireError.self) { try WireCodec.decode(Array(frames.prefix(2)), as: WorkerToCoordinator.self) }
        #expect(throws: WireError.self) { try WireCodec.decode(frames + [[0, 0, 0, 0]], as: WorkerToCoordinator.self) }
        var short = frames
        short[2].removeLast()
        #expect(throws: WireError.self) { try WireCodec.decode(short, as: WorkerToCoordinator.self) }
    }

    @Test func oversizedShapesAreRefusedBeforeAllocating() throws {
        var envelope = ProtobufWriter()
        envelope.message(2) {
            $0.string(1, "huge")
            $0.packed(2, [1 << 20, 1 << 20, 1 << 20])
            $0.varint(3, 4)
        }
        envelope.message(13) { _ in }
        let error = #expect(throws: WireError.self) {
            try WireCodec.decode(
                [WireProtocol.versionFrame, envelope.bytes, [0, 0, 0, 0]], as: WorkerToCoordinator.self)
        }
        #expect(error?.description.contains("huge") == true)
    }

    @Test func hostileFieldsGetClearErrors() throws {
        func shardTask(
            _ part: @escaping (inout ProtobufWriter) -> Void, normalizer: Float = 1,
            weightsVersion: String = "0123456789abcdef"
        ) -> [UInt8] {
            var envelope = ProtobufWriter()
            envelope.message(14) { task in
                task.message(1) { $0.string(1, "job") }
                task.message(2) {
                    $0.string(1, hashA)
                    $0.string(2, hashA)
                    $0.string(4, weightsVersion)
                }
                task.message(3) { work in
                    work.message(1, part)
                    work.fixed32(2, normalizer)
                }
            }
            return envelope.bytes
        }
        let cases: [([UInt8], String)] = [
            (
                shardTask({
                    $0.packed(1, [1, 2]); $0.packed(3, [0])
                }), "2 samples but 1 labels"
            ),
            (
                shardTask({
                    $0.packed(1, [1]); $0.string(2, "t"); $0.packed(3, [0])
                }), "both samples and a tensor"
            ),
            (shardTask({ $0.packed(3, []) }, normalizer: 0), "normalizer"),
            (
                shardTask({
                    $0.packed(1, [1]); $0.packed(3, [0]);
                    $0.message(4) {
                        $0.varint(1, 1); $0.fixed32(2, 1)
                    }
                }),
                "temperature"
            ),
            (
                shardTask({
                    $0.packed(1, [1]); $0.packed(3, [0]); $0.message(4) { $0.varint(1, 9) }
                }), "loss kind"
            ),
            (
                shardTask(
                    {
                        $0.packed(1, [1]); $0.packed(3, [0])
                    }, weightsVersion: hashA), "not a weights version"
            ),
            (
                shardTask(
                    {
                        $0.packed(1, [1]); $0.packed(3, [0])
                    }, weightsVersion: "0123456789ABCDEF"), "not a weights version"
            ),
            ([], "no body"),
        ]
        for (bytes, expected) in cases {
            let error = #expect(throws: WireError.self) {
                try WireCodec.decode([WireProtocol.versionFrame, bytes], as: CoordinatorToWorker.self)
            }
            #expect(error?.description.contains(expected) == true, "\(String(describing: error)) ≠ \(expected)")
        }
        var badHash = ProtobufWriter()
        badHash.message(16) { $0.string(1, "../../etc/passwd") }
        #expect(throws: WireError.self) {
            try WireCodec.decode([WireProtocol.versionFrame, badHash.bytes], as: WorkerToCoordinator.self)
        }
    }

    /// Mutated, truncated and random envelopes: each decodes or throws `WireError`, never crashes.
    @Test func fuzzedEnvelopesNeverCrashTheDecoder() throws {
        // The hello is another side's message: its body is decoded (and checked) before it is refused.
        let seeds = [
            WireCodec.encode(
                Envelope(
                    CoordinatorToWorker.shardTask(
                        ShardTask(
                            id: TaskID(job: "j", phase: 1, step: 2, shard: 0, attempt: 0),
                            context: sampleContext, work: .gradient(sampleStep))))),
            WireCodec.encode(
                Envelope(
                    CoordinatorToWorker.blobChunk(BlobChunk(sha256: hashA, offset: 0, totalBytes: 3, data: [1, 2, 3])))),
            WireCodec.encode(
                Envelope(
                    WorkerToCoordinator.hello(Hello(name: "w", kernelIdentity: "k", threads: 1, softwareVersion: "v")),
                    tensors: [NamedTensor("t", Tensor(zeros: [2, 2]))])),
        ].map { $0.map(\.array) }
        var random = SeededGenerator(seed: 7)
        var (accepted, refused) = (0, 0)
        for iteration in 0..<20_000 {
            var frames = seeds[iteration % seeds.count]
            switch iteration % 4 {
            case 0:  // flip bytes
                for _ in 0..<Int.random(in: 1...4, using: &random) where !frames[1].isEmpty {
                    frames[1][Int.random(in: 0..<frames[1].count, using: &random)] = UInt8.random(
                        in: 0...255, using: &random)
                }
            case 1:  // truncate
                frames[1] = Array(frames[1].prefix(Int.random(in: 0...frames[1].count, using: &random)))
            case 2:  // random bytes
                frames[1] = (0..<Int.random(in: 0..<64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            default:  // drop or add frames
                if Bool.random(using: &random) { frames.removeLast() } else { frames.append([1, 2, 3, 4]) }
            }
            do {
                _ = try WireCodec.decode(frames, as: CoordinatorToWorker.self)
                accepted += 1
            } catch {
                refused += 1
            }
        }
        #expect(refused > 1000)
        #expect(accepted + refused == 20_000)
    }
}
