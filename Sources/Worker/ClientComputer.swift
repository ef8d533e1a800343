import Data
import Foundation
import Jobs
import NN
import Tensor
import Transport
import Unlearning
import Wire

/// What a federated client computes on its own data (which never leaves it): local FedAvg training, gradient
/// ascent for a leaving client, and evaluation for the verification report.
public struct ClientComputer: Sendable {
    public let data: Dataset

    public init(data: Dataset) { self.data = data }

    /// The answer to one round task: a round update with its tensors, or an error saying what was wrong.
    public func run(_ task: RoundTask, tensors: [NamedTensor]) throws(ProtocolError) -> Envelope<ClientToCoordinator> {
        let started = Date()
        let model = try model(task, tensors)
        var update = RoundUpdate(
            job: task.job, round: task.round, kind: task.kind, samples: data.count, meanLoss: 0, seconds: 0)
        var answer: [NamedTensor] = []
        switch task.kind {
        case .train:
            update.meanLoss = try train(model, task)
            answer = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        case .ascend:
            let reference = Dictionary(
                uniqueKeysWithValues: tensors.filter { $0.name.hasPrefix("reference/") }.map {
                    (String($0.name.dropFirst("reference/".count)), $0.tensor)
                })
            update.meanLoss = try ascend(model, task, reference: reference)
            answer = model.stateDict().map { NamedTensor($0.name, $0.tensor) }
        case .evaluate:
            let predictions = Evaluator.predict(model, on: data, indices: Array(0..<data.count))
            (update.correct, update.total) = Evaluator.perClassCounts(predictions, classCount: data.classCount)
            update.meanLoss = Evaluator.summarize(predictions, classCount: data.classCount).loss
            var generator = SeededGenerator(seed: task.seed, stream: "membership-subset")
            let subset = generator.permutation(data.count).prefix(task.membershipSamples).sorted()
            answer = [
                NamedTensor("losses", Tensor(shape: [subset.count], scalars: subset.map { predictions.losses[$0] }))
            ]
        }
        update.seconds = Date().timeIntervalSince(started)
        return Envelope(.roundUpdate(update), tensors: answer)
    }

    private func model(_ task: RoundTask, _ tensors: [NamedTensor]) throws(ProtocolError) -> Model {
        let model: Model
        do {
            model = try ModelSpec.build(task.architecture, seed: 0)
        } catch {
            throw ProtocolError(.badRequest, "unknown architecture: \(error)")
        }
        guard model.inputShape == data.imageShape, model.classCount == data.classCount else {
            throw ProtocolError(
                .badRequest,
                "\(task.architecture) takes \(model.inputShape) inputs and \(model.classCount) classes; this client holds \(data.imageShape) images of \(data.classCount) classes"
            )
        }
        let names = Set(model.stateDict().map(\.name))
        do {
            try model.load(
                stateDict: tensors.filter { names.contains($0.name) }.map { (name: $0.name, tensor: $0.tensor) })
        } catch {
            throw ProtocolError(.badShape, "the weights sent do not fit \(task.architecture): \(error)")
        }
        return model
    }

    private func train(_ model: Model, _ task: RoundTask) throws(ProtocolError) -> Double {
        var recipe = TrainingRecipe()
        recipe.epochs = task.epochs
        recipe.batchSize = min(task.batchSize, max(data.count, 1))
        recipe.learningRate = task.learningRate
        recipe.momentum = task.momentum
        recipe.weightDecay = task.weightDecay
        recipe.seed = task.seed
        if let problem = recipe.problem { throw ProtocolError(.badRequest, "local training: \(problem)") }
        do {
            return try Trainer(model: model, recipe: recipe).fit(data, indices: Array(0..<data.count)).last?.meanLoss
                ?? 0
        } catch {
            throw ProtocolError(.internalError, "local training diverged: \(error)")
        }
    }

    /// Plain SGD ascent on the local cross-entropy, each step projected back into the L2 ball of `task.radius`
    /// around `reference` (Halimi et al.'s PGA) when a radius is given.
    private func ascend(_ model: Model, _ task: RoundTask, reference: [String: Tensor]) throws(ProtocolError)
        -> Double
    {
        let parameters = model.namedParameters
        if task.radius > 0 {
            for (name, parameter) in parameters where reference[name]?.shape != parameter.value.shape {
                throw ProtocolError(.badShape, "the reference weights lack '\(name)' or have another shape")
            }
        }
        var losses: [Double] = []
        for epoch in 0..<task.epochs {
            var generator = SeededGenerator(seed: task.seed, stream: "ascent-\(epoch)")
            let order = generator.permutation(data.count)
            for (step, start) in stride(from: 0, to: order.count, by: task.batchSize).enumerated() {
                let batch = data.batch(indices: Array(order[start..<min(start + task.batchSize, order.count)]))
                model.zeroGradients()
                let logits = model.forward(batch.images, mode: .train(seed: task.seed &+ UInt64(step)))
                let loss = crossEntropy(logits: logits, labels: batch.labels)
                guard loss.value.isFinite else { throw ProtocolError(.internalError, "gradient ascent diverged") }
                losses.append(Double(loss.value))
                model.backward(loss.gradient)
                for (_, parameter) in parameters { parameter.value.add(parameter.grad, scaledBy: task.learningRate) }
                if task.radius > 0 { project(parameters, onto: reference, radius: task.radius) }
            }
        }
        return losses.isEmpty ? 0 : losses.reduce(0, +) / Double(losses.count)
    }

    private func project(
        _ parameters: [(name: String, parameter: Parameter)], onto reference: [String: Tensor], radius: Float
    ) {
        let distance = parameters.reduce(0.0) { $0 + ($1.parameter.value - reference[$1.name]!).squaredNorm() }
            .squareRoot()
        guard distance > Double(radius) else { return }
        let shrink = Float(Double(radius) / distance)
        for (name, parameter) in parameters {
            let centre = reference[name]!
            var offset = parameter.value - centre
            offset.scale(by: shrink)
            parameter.value = centre + offset
        }
    }
}
