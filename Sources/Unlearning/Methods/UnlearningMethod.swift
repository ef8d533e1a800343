import Data
import NN
import Tensor

/// What every method gets to plan with.
public struct UnlearningProblem {
    /// The training set as the original model saw it (confusion scenarios keep their swapped labels).
    public let train: Dataset
    public let forgetSet: ForgetSet
    /// Held-out training indices the original never trained on (for tuning, rewinding and stopping rules).
    public let validation: [Int]
    public let parameters: MethodParameters
    public let seed: UInt64
    /// The recipe the original was trained with (retrain repeats it).
    public let recipe: TrainingRecipe
    /// Builds the architecture at a seeded initialisation.
    public let architecture: (UInt64) -> Model
    /// With membership-audit references: a held-out stand-in for each forget sample, as hard as it for models
    /// that never saw either (listed or random samples only).
    public let difficultyMatch: DifficultyMatch?

    public init(
        train: Dataset, forgetSet: ForgetSet, validation: [Int], parameters: MethodParameters, seed: UInt64,
        recipe: TrainingRecipe, architecture: @escaping (UInt64) -> Model, unseen: UnseenConfidence? = nil
    ) {
        self.train = train
        self.forgetSet = forgetSet
        self.validation = validation
        self.parameters = parameters
        self.seed = seed
        self.recipe = recipe
        self.architecture = architecture
        difficultyMatch = unseen.flatMap { unseen in
            switch forgetSet.selection {
            case .fraction, .indices:
                let labels = Set(forgetSet.forget.map { train.labels[$0] })
                return DifficultyMatch(
                    forget: forgetSet.forget, candidates: validation.filter { labels.contains(train.labels[$0]) },
                    labels: train.labels, unseen: unseen)
            case .classes, .confusion, .targetRange: return nil
            }
        }
    }

    /// A seed for one named use, derived from the run's seed.
    public func seed(_ stream: String) -> UInt64 {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return generator.next()
    }

    /// Validation samples distributed like the forget set: of the forgotten classes for class forgetting,
    /// of the forget set's labels otherwise.
    public var forgetLikeValidation: [Int] {
        let labels = Set(forgetSet.forgottenClasses ?? forgetSet.forget.map { train.labels[$0] })
        return validation.filter { labels.contains(train.labels[$0]) }
    }

    /// Held-out samples that stand for the forget set in targets and calibrations: the difficulty-matched
    /// stand-ins when references gave them (one per forget sample, repeats allowed), else `forgetLikeValidation`.
    public var forgetStandIns: [Int] { difficultyMatch?.standIns ?? forgetLikeValidation }

    /// A seeded subset of `fraction` of the retain set, drawn afresh for each `draw`.
    public func retainSubset(fraction: Float, draw: String) -> [Int] {
        guard fraction < 1 else { return forgetSet.retain }
        let count = max(1, Int((fraction * Float(forgetSet.retain.count)).rounded()))
        return seededSubset(of: forgetSet.retain, count: count, stream: "retain-subset-\(draw)")
    }

    /// `count` of `indices` (all of them if fewer), drawn with the run's seed in `stream`, in ascending order.
    public func seededSubset(of indices: [Int], count: Int, stream: String) -> [Int] {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return generator.permutation(indices.count).prefix(count).map { indices[$0] }.sorted()
    }

    /// Shuffled batches of `indices` for one pass, named `draw`.
    public func batches(of indices: [Int], size: Int, draw: String) -> [[Int]] {
        BatchSchedule.batches(indices: indices, batchSize: size, seed: seed("batches-\(draw)"), epoch: 0)
    }

    /// The true labels of training samples.
    public func labels(of indices: [Int]) -> [Int] { indices.map { train.labels[$0] } }

    /// A step of `losses` over one batch of training samples with their true labels, seeded by `stream`.
    public func step(over batch: [Int], losses: [LossComponent], seed stream: String) -> GradientStep {
        GradientStep(
            parts: [BatchPart(inputs: .samples(batch), labels: labels(of: batch), losses: losses)], seed: seed(stream))
    }
}

/// An unlearning method: its parameters and the plan it runs for a problem.
public protocol UnlearningMethod: Sendable {
    /// The name used on the command line (`--method`).
    var name: String { get }
    var summary: String { get }
    var parameters: [MethodParameters.Declaration] { get }
    /// The kinds of model it unlearns (classifiers unless it says otherwise).
    var tasks: Set<LearningTask> { get }
    /// Whether its output is the reference other runs are judged against (the retrain), so not judged itself.
    var isReference: Bool { get }
    /// The plan, or why the method does not apply (e.g. UNSIR on a random subset).
    func plan(for problem: UnlearningProblem) throws -> Plan
}

/// What a model learned to do: pick a class, or predict real values.
public enum LearningTask: String, Sendable, Hashable, CaseIterable {
    case classification
    case regression
}

extension UnlearningMethod {
    public var tasks: Set<LearningTask> { [.classification] }
    public var isReference: Bool { false }

    /// The plan, refused with a clear error when the method does not unlearn the problem's kind of model.
    public func checkedPlan(for problem: UnlearningProblem) throws -> Plan {
        let task: LearningTask = problem.train.isRegression ? .regression : .classification
        guard tasks.contains(task) else {
            let fitting = UnlearningMethods.all.filter { $0.tasks.contains(task) }.map(\.name)
            throw MethodNotApplicable(
                "\(name) does not unlearn \(task) models; for \(task) use \(fitting.joined(separator: ", "))")
        }
        return try plan(for: problem)
    }
}

extension UnlearningMethod {
    /// The method's parameters and the acceptance checks every run takes (`Acceptance`); the method's own
    /// declaration of a key wins.
    public var allParameters: [MethodParameters.Declaration] {
        let own = Set(parameters.map(\.key))
        return parameters + Acceptance.declarations.filter { !own.contains($0.key) }
    }
}

/// Why a method cannot run on a problem.
public struct MethodNotApplicable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Every method `lethe unlearn --method` knows.
public enum UnlearningMethods {
    public static let all: [any UnlearningMethod] = [
        Retrain(), Finetune(), NegGrad(), NegGradPlus(), SCRUB(variant: .plain), SCRUB(variant: .rewind),
        SCRUB(variant: .features), UNSIR(), BadTeacher(), SSD(), SCRUBAndLearn(), RandomLabel(), CalibratedRelabel(),
        GKT(), Blindspot(), GaussianAmnesiac(),
    ]

    public static func named(_ name: String) -> (any UnlearningMethod)? { all.first { $0.name == name } }
}
