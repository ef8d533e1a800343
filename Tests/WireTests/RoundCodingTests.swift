import Tensor
import Testing

@testable import Wire

/// The federated round messages: every field survives, and values no peer can mean are refused by name.
struct RoundCodingTests {
    @Test(arguments: [RoundTask.Kind.train, .evaluate, .ascend])
    func roundTasksSurviveWithTheirWeights(kind: RoundTask.Kind) throws {
        let task = RoundTask(
            job: "job-3", round: 7, kind: kind, architecture: "fmnist-cnn", epochs: 2, batchSize: 32,
            learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, seed: 0xFEED_0000_0000_0001, radius: 2.5,
            membershipSamples: 1000)
        let weights = [NamedTensor("fc.weight", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))]
        let decoded = try roundTrip(Envelope(CoordinatorToClient.roundTask(task), requestID: 9, tensors: weights))
        #expect(decoded.message == .roundTask(task))
        #expect(decoded.requestID == 9)
        #expect(decoded.tensors.map(\.name) == ["fc.weight"] && decoded.tensors[0].tensor.shape == [2, 3])
    }

    @Test func roundUpdatesSurviveWithTheirCounts() throws {
        let update = RoundUpdate(
            job: "job-3", round: 7, kind: .evaluate, samples: 600, meanLoss: 0.25, seconds: 1.5,
            correct: [10, 0, 7], total: [12, 3, 7])
        #expect(try roundTrip(Envelope(ClientToCoordinator.roundUpdate(update))).message == .roundUpdate(update))
    }

    @Test func hostileRoundFieldsGetClearErrors() throws {
        func task(_ fields: (inout ProtobufWriter) -> Void) -> [UInt8] {
            var envelope = ProtobufWriter()
            envelope.message(19) {
                $0.string(1, "job")
                $0.string(4, "fmnist-mlp")
                fields(&$0)
            }
            return envelope.bytes
        }
        func update(_ fields: (inout ProtobufWriter) -> Void) -> [UInt8] {
            var envelope = ProtobufWriter()
            envelope.message(20) {
                $0.string(1, "job")
                fields(&$0)
            }
            return envelope.bytes
        }
        let cases: [([UInt8], String)] = [
            (task { _ in }, "positive batch size"),
            (
                task {
                    $0.varint(6, 8); $0.fixed32(7, -0.1)
                }, "non-negative rates"
            ),
            (
                task {
                    $0.varint(6, 8); $0.fixed32(8, .nan)
                }, "finite"
            ),
            (
                task {
                    $0.varint(6, 8); $0.fixed32(11, .infinity)
                }, "finite"
            ),
            (
                task {
                    $0.varint(6, 8); $0.varint(3, 7)
                }, "round task kind #7 is unknown"
            ),
            (update { $0.varint(3, 9) }, "kind #9 is unknown"),
            (
                update {
                    $0.packed(7, [1, 2]); $0.packed(8, [3])
                }, "as many correct counts as totals"
            ),
            (
                update {
                    $0.packed(7, [4]); $0.packed(8, [3])
                }, "more correct than total"
            ),
            (
                update {
                    $0.varint(4, 10); $0.fixed64(5, .nan)
                }, "non-finite loss"
            ),
            (
                update {
                    $0.packed(7, Array(repeating: 0, count: 70_000)); $0.packed(8, Array(repeating: 1, count: 70_000))
                }, "per class"
            ),
        ]
        for (bytes, expected) in cases {
            let error = #expect(throws: WireError.self) {
                try WireCodec.decode([WireProtocol.versionFrame, bytes], as: ClientToCoordinator.self)
            }
            #expect(error?.description.contains(expected) == true, "\(String(describing: error)) ≠ \(expected)")
        }
    }
}
