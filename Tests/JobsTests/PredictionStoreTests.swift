import Checkpoint
import Foundation
import Jobs
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

/// The original's predictions are kept per sample: a run's partial predictions come back with their indices, a
/// later run's are added in index order with the bits one pass gives, runs that overlap keep each other's samples,
/// and an entry whose indices are not ascending or out of range is a miss.
struct PredictionStoreTests {
    let train = labelledDataset(perClass: [Int](repeating: 12, count: 10), seed: 4)
    let test = labelledDataset(perClass: [Int](repeating: 3, count: 10), seed: 5)
    let model = ModelZoo.fmnistMLP(seed: 2)

    func store(_ directory: TemporaryDirectory) -> DirectoryPredictionStore {
        DirectoryPredictionStore(
            shelf: CacheShelf(root: URL(fileURLWithPath: directory.path("cache")), kind: "predictions", budget: .init())
        )
    }

    func predictions(_ indices: [Int]) -> ModelPredictions {
        ModelPredictions(
            train: Evaluator.predict(model, on: train, indices: indices), trainIndices: indices,
            test: Evaluator.predict(model, on: test, indices: Array(0..<test.count)))
    }

    func digest(_ predictions: Evaluator.Predictions) -> String {
        let losses = Tensor(shape: [predictions.losses.count], scalars: predictions.losses)
        return "\(predictions.labels) \(predictions.predicted) \(BitHash.of([predictions.logits, losses]))"
    }

    @Test func partialPredictionsRoundTripAndGrowToOnePassBits() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = store(directory)
        let first = Array(stride(from: 0, to: train.count, by: 3))
        store.save(predictions(first), key: "k", train: train, test: test)
        let loaded = try #require(store.load(key: "k", train: train, test: test))
        #expect(
            loaded.trainIndices == first && loaded.heldTrain(at: [0, 3]) != nil && loaded.heldTrain(at: [1]) == nil)
        #expect(digest(loaded.train) == digest(Evaluator.predict(model, on: train, indices: first)))

        let rest = Array(0..<train.count).filter { $0 % 3 != 0 }
        let whole = loaded.adding(
            Evaluator.predict(model, on: train, indices: rest, batchSize: 7), at: rest, trainCount: train.count)
        #expect(whole.trainIndices == nil)
        let onePass = Evaluator.predict(model, on: train, indices: Array(0..<train.count))
        #expect(digest(whole.train) == digest(onePass))
        store.save(whole, key: "k", train: train, test: test)
        #expect(try #require(store.load(key: "k", train: train, test: test)).trainIndices == nil)
    }

    @Test func indicesThatAreNotAscendingOrInRangeAreAMiss() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = store(directory)
        store.save(predictions([1, 2, 3]), key: "good", train: train, test: test)
        #expect(store.load(key: "good", train: train, test: test)?.trainIndices == [1, 2, 3])
        let good = try SafetensorsFile(data: try #require(store.shelf.read(key: "good")))
        for indices in [[4, 2, 9], [1, 2, train.count]] {
            var file = good
            let position = try #require(file.entries.firstIndex { $0.name == "train.indices" })
            file.entries[position].tensor = Tensor(shape: [3], scalars: indices.map(Float.init))
            store.shelf.write(try file.serialized(), key: "bad")
            #expect(store.load(key: "bad", train: train, test: test) == nil, "\(indices)")
        }
    }

    /// Two runs read the same entry, each predicts other samples, and the one that saves last does not drop what
    /// the first added.
    @Test func aLaterSaveKeepsWhatAnOverlappingRunAdded() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = store(directory)
        store.save(predictions([0, 3, 6]), key: "k", train: train, test: test)
        store.save(predictions([0, 1, 3, 4, 6]), key: "k", train: train, test: test)
        store.save(predictions([0, 2, 3, 5, 6]), key: "k", train: train, test: test)
        let loaded = try #require(store.load(key: "k", train: train, test: test))
        #expect(loaded.trainIndices == Array(0...6))
        #expect(digest(loaded.train) == digest(Evaluator.predict(model, on: train, indices: Array(0...6))))
    }

    /// Saves at once (threads, each with its own lock descriptor, as processes have) take turns on the entry: it
    /// ends with every sample any of them predicted.
    @Test func simultaneousSavesLoseNoSample() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = store(directory)
        let (runs, trainSet, testSet) = (8, train, test)
        let made = (0..<runs).map { run in predictions(Array(stride(from: run, to: trainSet.count, by: runs))) }
        DispatchQueue.concurrentPerform(iterations: runs) { run in
            store.save(made[run], key: "k", train: trainSet, test: testSet)
        }
        let loaded = try #require(store.load(key: "k", train: train, test: test))
        #expect(loaded.trainIndices == nil, "every training sample, from one run or another")
        #expect(digest(loaded.train) == digest(Evaluator.predict(model, on: train, indices: Array(0..<train.count))))
    }
}
