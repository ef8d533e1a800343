import NN
import Testing
import Wire

@testable import Coordinator

/// A worker that takes weight parts gets the first layers' weights with its task and the rest in runs of at most
/// `weightPartBytes` (a larger tensor alone), in state_dict order, so that it computes while they travel.
struct WeightRunsTests {
    @Test func weightsAreCutInOrderIntoRunsOfAtMostTheBytesAsked() {
        let weights = ModelZoo.fmnistCNN(seed: 1).stateDict().map { NamedTensor($0.name, $0.tensor) }
        let runs = WorkerDispatch.parts(of: weights, bytes: 256 << 10).map { $0.map(\.name) }
        #expect(
            runs == [
                ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"], ["fc1.weight"],
                ["fc1.bias", "fc2.weight", "fc2.bias"],
            ])
        #expect(WorkerDispatch.parts(of: weights, bytes: 0).map(\.count) == [weights.count])
        #expect(WorkerDispatch.parts(of: weights, bytes: 1).map(\.count) == weights.map { _ in 1 })
    }
}
