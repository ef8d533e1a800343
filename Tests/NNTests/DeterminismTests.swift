import LetheTesting
import NN
import Tensor
import Testing

/// Same inputs ⇒ same bits, whatever the thread count (DESIGN §4).
@Suite(.serialized)
struct DeterminismTests {
    @Test func fmnistCNNIsBitIdenticalOnOneAndTwoThreads() {
        let build = { ModelZoo.fmnistCNN(seed: 3) }
        #expect(trainingBits(threads: 1, batch: 40, build: build) == trainingBits(threads: 2, batch: 40, build: build))
    }

    @Test func resnetIsBitIdenticalOnOneAndTwoThreads() {
        let build = { ModelZoo.resnet18(seed: 4, width: 4, inputShape: [3, 16, 16]) }
        #expect(trainingBits(threads: 1, batch: 12, build: build) == trainingBits(threads: 2, batch: 12, build: build))
    }

    @Test func sameSeedSameInitialisation() {
        let hash = { (seed: UInt64) in BitHash.of(ModelZoo.fmnistCNN(seed: seed).stateDict().map(\.tensor)) }
        #expect(hash(9) == hash(9))
        #expect(hash(9) != hash(10))
    }
}
