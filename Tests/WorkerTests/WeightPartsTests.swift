import Foundation
import LetheTesting
import NN
import Tensor
import Testing
import Transport
import Unlearning
import Wire

@testable import Worker

/// A task's weights may come in parts (the task, then `shardTaskWeights`): the worker computes the first layers
/// while the rest travel, waits for each layer's, and lets nothing out before all of them hash to the task's
/// weights version.
struct WeightPartsTests {
    let shards = ShardComputerTests()

    func cnn() throws -> (ShardComputer, JobContext, [NamedTensor], TemporaryDirectory) {
        let model = ModelZoo.fmnistCNN(seed: 1)
        let (computer, context, _, directory) = try shards.setUp(architecture: "fmnist-cnn", model: model)
        return (computer, context, model.stateDict().map { NamedTensor($0.name, $0.tensor) }, directory)
    }

    /// Runs `task` on a thread of its own; the result comes through `finished`.
    func start(_ computer: ShardComputer, _ task: ShardTask, _ arrival: WeightsArrival, parts: Collected<[NamedTensor]>)
        -> Collected<Result<Envelope<WorkerToCoordinator>, ProtocolError>>
    {
        let finished = Collected<Result<Envelope<WorkerToCoordinator>, ProtocolError>>()
        Thread.detachNewThread {
            do throws(ProtocolError) {
                finished.append(.success(try computer.run(task, arrival: arrival) { parts.append($0) }))
            } catch {
                finished.append(.failure(error))
            }
        }
        return finished
    }

    func waitFor(_ finished: Collected<some Any>) {
        let deadline = Date().addingTimeInterval(120)
        while finished.count == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }

    @Test func aTaskWaitsForItsLaterWeightsAndGivesTheWholeTasksBits() throws {
        let (computer, context, weights, directory) = try cnn()
        defer { directory.remove() }
        var task = shards.task(context, indices: [0, 1, 2, 5], labels: [0, 0, 0, 1])
        let whole = try computer.run(task, tensors: weights)
        task.gradientPartBytes = 4096
        let convolutions = weights.filter { $0.name.hasPrefix("conv") }
        let arrival = WeightsArrival(convolutions)
        let parts = Collected<[NamedTensor]>()
        let finished = start(computer, task, arrival, parts: parts)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(finished.count == 0 && parts.count == 0, "nothing can be computed without fc1's weights")
        try arrival.add(weights.filter { !$0.name.hasPrefix("conv") })
        waitFor(finished)
        let result = try #require(try finished.value.first?.get())
        let sent = parts.value.flatMap { $0 } + result.tensors
        let gradients = weights.map { weight in sent.first { $0.name == weight.name }!.tensor }
        #expect(BitHash.of(gradients) == BitHash.of(whole.tensors.map(\.tensor)))
        #expect(computer.hasWeights(context.weightsVersion))
    }

    @Test func weightsThatDoNotHashToTheTaskVersionLetNothingOut() throws {
        let (computer, context, weights, directory) = try cnn()
        defer { directory.remove() }
        var task = shards.task(context, indices: [0, 1], labels: [0, 0])
        task.gradientPartBytes = 4096
        let arrival = WeightsArrival(weights.filter { $0.name.hasPrefix("conv") })
        let parts = Collected<[NamedTensor]>()
        let finished = start(computer, task, arrival, parts: parts)
        try arrival.add(
            weights.filter { !$0.name.hasPrefix("conv") }.map {
                $0.name == "fc2.bias" ? NamedTensor($0.name, Tensor(zeros: $0.tensor.shape)) : $0
            })
        waitFor(finished)
        #expect(throws: ProtocolError.self) { try finished.value.first?.get() }
        if case .failure(let error) = finished.value.first { #expect(error.message.contains("hash to")) }
        #expect(parts.count == 0)
        #expect(!computer.hasWeights(context.weightsVersion))
    }

    @Test func aFailedArrivalStopsTheTaskAndARepeatedTensorIsRefused() throws {
        let (computer, context, weights, directory) = try cnn()
        defer { directory.remove() }
        let arrival = WeightsArrival(Array(weights.prefix(2)))
        #expect(throws: ProtocolError.self) { try arrival.add([weights[1]]) }
        let finished = start(
            computer, shards.task(context, indices: [0], labels: [0]), arrival, parts: Collected<[NamedTensor]>())
        arrival.fail(ProtocolError(.badRequest, "the coordinator dropped the task"))
        waitFor(finished)
        if case .failure(let error) = finished.value.first {
            #expect(error.message == "the coordinator dropped the task")
        } else {
            Issue.record("the task should have failed")
        }
    }
}
