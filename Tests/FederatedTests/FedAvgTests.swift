import Federated
import Tensor
import Testing

@Suite struct FedAvgTests {
    @Test func weightsBySampleCount() throws {
        let result = try FedAvg.aggregate([
            (samples: 1, weights: ["w": vector([1, 2]), "b": vector([3])]),
            (samples: 3, weights: ["w": vector([5, 6]), "b": vector([-1])]),
        ])
        #expect(Set(result.keys) == ["w", "b"])
        expectClose(result["w"], vector([4, 5]))
        expectClose(result["b"], vector([0]))
    }

    @Test func aSingleClientIsReturnedAndZeroSampleClientsDoNotCount() throws {
        let weights = ["w": Tensor(shape: [2, 2], scalars: [0.1, -0.2, 0.3, 7])]
        #expect(try FedAvg.aggregate([(samples: 5, weights: weights)]) == weights)
        let withIdle = try FedAvg.aggregate([
            (samples: 0, weights: ["w": Tensor(repeating: 100, shape: [2, 2])]), (samples: 5, weights: weights),
        ])
        #expect(withIdle == weights)
    }

    @Test func accumulatesInTheGivenOrderBitForBit() throws {
        var generator = SeededGenerator(seed: 21)
        let samples = [7, 11, 13]
        let clients = samples.map { _ in Tensor.normal(shape: [64], using: &generator) }
        let updates = zip(samples, clients).map { (samples: $0, weights: ["w": $1]) }

        // The documented arithmetic: weights n_c / N rounded to Float once, summed in Float in the given order.
        var expected = [Float](repeating: 0, count: 64)
        for (count, client) in zip(samples, clients) {
            let factor = Float(Double(count) / 31)
            for i in 0..<64 { expected[i] += factor * client.scalars[i] }
        }
        let result = try FedAvg.aggregate(updates)
        #expect(result["w"]?.scalars == expected)
        #expect(try FedAvg.aggregate(updates) == result)
    }

    @Test func refusesEmptyZeroAndMismatchedInput() {
        let good = ["w": vector([1, 2]), "b": vector([3])]
        #expect(throws: FederatedError.noUpdates) { try FedAvg.aggregate([]) }
        #expect(throws: FederatedError.zeroSamples(updates: 2)) {
            try FedAvg.aggregate([(samples: 0, weights: good), (samples: 0, weights: good)])
        }
        #expect(throws: FederatedError.negativeSamples(update: 1, samples: -2)) {
            try FedAvg.aggregate([(samples: 3, weights: good), (samples: -2, weights: good)])
        }
        #expect(throws: FederatedError.noParameters(context: "update 0")) {
            try FedAvg.aggregate([(samples: 3, weights: [:])])
        }
        #expect(throws: FederatedError.missingParameter(name: "b", context: "update 1")) {
            try FedAvg.aggregate([(samples: 3, weights: good), (samples: 1, weights: ["w": vector([1, 2])])])
        }
        #expect(throws: FederatedError.unexpectedParameter(name: "c", context: "update 1")) {
            var extra = good
            extra["c"] = vector([0])
            return try FedAvg.aggregate([(samples: 3, weights: good), (samples: 1, weights: extra)])
        }
        #expect(throws: FederatedError.shapeMismatch(name: "w", expected: [2], found: [1, 2], context: "update 1")) {
            try FedAvg.aggregate([
                (samples: 3, weights: good), (samples: 1, weights: ["w": Tensor(zeros: [1, 2]), "b": vector([3])]),
            ])
        }
    }

    @Test func refusalMessagesSayHowToFixThem() {
        #expect(
            "\(FederatedError.tooManyClients(clients: 101, samples: 1000, minimumSamples: 10))".contains(
                "at most 100 clients"))
        #expect("\(FederatedError.zeroSamples(updates: 2))".contains("zero samples"))
        #expect("\(FederatedError.noRemainingClients)".contains("at least one remaining client"))
        #expect("\(FederatedError.backdoorTargetOutOfRange(target: 10, classCount: 10))".contains("below 10"))
    }
}
