import Data
import NN

/// Epochs of minibatch SGD with cross-entropy: how the original is trained, and the retrain baseline.
public enum TrainingPhases {
    /// The optimizer the phases update.
    public static let optimizer = "sgd"

    public static func makeOptimizer(_ recipe: TrainingRecipe) -> SGD {
        SGD(
            learningRate: recipe.learningRate, momentum: recipe.momentum, weightDecay: recipe.weightDecay,
            nesterov: recipe.nesterov)
    }

    /// One phase per epoch over `indices` with the training set's labels, minimising `loss` (cross-entropy, or for
    /// regression models the error against the samples' targets).
    public static func epochs(
        _ recipe: TrainingRecipe, indices: [Int], labels: [Int], name: String = "train",
        loss: LossComponent = .crossEntropy(weight: 1)
    ) -> [GradientPhase] {
        precondition(recipe.problem == nil, recipe.problem ?? "")
        return (0..<recipe.epochs).map { epoch in
            let batches = BatchSchedule.batches(
                indices: indices, batchSize: recipe.batchSize, seed: recipe.seed, epoch: epoch)
            return GradientPhase(
                name: "\(name) epoch \(epoch + 1)/\(recipe.epochs)", steps: batches.count, optimizer: optimizer,
                learningRate: recipe.schedule.rate(base: recipe.learningRate, epoch: epoch)
            ) { step, _ in
                let batch = batches[step]
                let seed = recipe.seed &* 1_000_003 &+ UInt64(epoch * batches.count + step)
                return GradientStep(
                    parts: [
                        BatchPart(
                            inputs: .samples(batch), labels: batch.map { labels[$0] }, losses: [loss])
                    ], seed: seed)
            }
        }
    }
}

/// `retrain`: train from scratch on the retain set with the original's recipe (the gold standard).
public struct Retrain: UnlearningMethod {
    public let tasks: Set<LearningTask> = [.classification, .regression]
    public let name = "retrain"
    public let isReference = true
    public let summary = "Train from a fresh initialisation on the retain set with the original recipe."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "-1", "Epochs (-1: the original's)", .automaticOr(.count(0...UnlearningLimits.epochs))),
        .init("lr", "-1.0", "Learning rate (-1: the original's)", .automaticOr(.positive)),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        var recipe = problem.recipe
        recipe.seed = problem.seed
        if problem.parameters.int("epochs") >= 0 { recipe.epochs = problem.parameters.int("epochs") }
        if problem.parameters.float("lr") > 0 { recipe.learningRate = problem.parameters.float("lr") }
        if let problem = recipe.problem { throw MethodParameterError.outOfRange(problem) }
        let initialize = LocalPhase(name: "initialise") { state in
            try state.student.load(stateDict: problem.architecture(problem.seed).stateDict())
        }
        let epochs = TrainingPhases.epochs(
            recipe, indices: problem.forgetSet.retain, labels: problem.train.labels, loss: problem.taskLoss(weight: 1))
        return Plan(phases: [initialize] + epochs) { [TrainingPhases.optimizer: TrainingPhases.makeOptimizer(recipe)] }
    }
}

/// `finetune`: continue training the original on the retain set.
public struct Finetune: UnlearningMethod {
    public let tasks: Set<LearningTask> = [.classification, .regression]
    public let name = "finetune"
    public let summary = "Continue training on the retain set (catastrophic forgetting)."
    public let parameters: [MethodParameters.Declaration] = [
        .init("epochs", "2", "Epochs over the retain set", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.02", "SGD learning rate", .positive),
        .init("batch-size", "128", "Minibatch size", .batchSize),
    ]

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        var recipe = problem.recipe
        recipe.seed = problem.seed("finetune")
        recipe.epochs = problem.parameters.int("epochs")
        recipe.learningRate = problem.parameters.float("lr")
        recipe.batchSize = problem.parameters.int("batch-size")
        recipe.decayEpochs = []
        if let problem = recipe.problem { throw MethodParameterError.outOfRange(problem) }
        let epochs = TrainingPhases.epochs(
            recipe, indices: problem.forgetSet.retain, labels: problem.train.labels, name: "finetune",
            loss: problem.taskLoss(weight: 1))
        return Plan(phases: epochs) { [TrainingPhases.optimizer: TrainingPhases.makeOptimizer(recipe)] }
    }
}
