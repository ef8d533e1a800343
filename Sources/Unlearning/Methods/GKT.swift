import NN
import Tensor

/// `gkt` (Chundawat et al., "Zero-Shot Machine Unlearning", IEEE TIFS 2023): class forgetting by gated
/// knowledge transfer, with no training sample at all. A student at a fresh seeded initialisation learns from
/// the original (the teacher) on images a generator makes from noise; a gate keeps only the images the teacher
/// gives every forgotten class at most τ, so knowledge of the forgotten classes never reaches the student. Per
/// pseudo-batch (fresh z): one generator step (Adam, ascending KL(teacher ‖ student) through both networks),
/// then `student-steps` student steps (Adam, KL + β · attention transfer), both clipped to a gradient norm.
/// The reference's leak — the forgotten class coming back late in training — is guarded against
/// (`GKTLeakGuard`): the run returns the last checkpoint whose probe, made without training data, stays under
/// the forget target.
public struct GKT: UnlearningMethod {
    public let name = "gkt"
    public let summary = "Zero-shot: distil the original into a fresh model on gated generated images (no data)."
    public let parameters: [MethodParameters.Declaration] = [
        .init(
            "pseudo-batches", "4000", "Pseudo-batches (a fresh z each, 1 generator + student-steps student steps)",
            .count(1...UnlearningLimits.steps)),
        .init("batch-size", "256", "Generated images per pseudo-batch", .batchSize),
        .init("student-steps", "10", "Student steps per pseudo-batch", .count(1...100)),
        .init(
            "gate", "0.01", "τ: an image reaches the student only if the teacher gives each forgotten class ≤ τ",
            .fraction),
        .init("beta", "250", "β, weight of attention transfer in the student's loss", .nonNegative),
        .init(
            "layers", "auto",
            "Layers of the attention transfer, separated by '+' (auto: the residual stages, else the convolutions; none)"
        ),
        .init("temperature", "1", "Temperature of the KL divergences", .positive),
        .init("generator-lr", "0.001", "Adam learning rate of the generator", .positive),
        .init("student-lr", "0.001", "Adam learning rate of the student", .positive),
        .init("clip", "5", "Gradient-norm clip of both networks", .positive),
        .init(
            "plateau-factor", "0.5", "Generator rate factor when its loss plateaus (checked every checkpoint)",
            .belowOne),
        .init(
            "plateau-patience", "2", "Checkpoints without a better generator loss before it is lowered",
            .count(0...1000)),
        .init(
            "restore-after", "100", "Restore the generator's last checkpoint after this many empty pseudo-batches",
            .count(1...UnlearningLimits.steps)),
        .init(
            "checkpoint-every", "50", "Pseudo-batches between checkpoints (the leak guard's candidates)",
            .count(1...UnlearningLimits.steps)),
        .init("impressions", "64", "Class impressions per forgotten class in the leak probe", .count(1...4096)),
        .init(
            "impression-steps", "40", "Adam steps learning the class impressions", .count(1...UnlearningLimits.steps)),
        .init("impression-lr", "0.1", "Adam learning rate of the class impressions", .positive),
        .init(
            "stop-accuracy", "-1.0", "Forget target of the leak probe (-1: the class target, 5%)",
            .automaticOr(.unitInterval)),
        .init(
            "leak-guard", "true",
            "Return the last checkpoint whose probe stays under the target (false: the last state, to measure the leak)"
        ),
    ]

    /// Scalars a run leaves for its report: the checkpoint returned (in pseudo-batches; absent when none passed),
    /// its probe score, the first checkpoint that leaked after it, and each checkpoint's score
    /// (`checkpointScorePrefix` + pseudo-batches).
    public static let returnedCheckpoint = "gkt.returned-checkpoint"
    public static let returnedScore = "gkt.returned-score"
    public static let firstLeak = "gkt.first-leak"
    public static let lastCheckpoint = "gkt.last-checkpoint"
    public static let probeSize = "gkt.probe-size"
    public static let emptyPseudoBatches = "gkt.empty-pseudo-batches"
    public static let generatorRestores = "gkt.generator-restores"
    public static let checkpointScorePrefix = "gkt.score."
    /// Present when the run returned its last state with the guard off (`leak-guard=false`).
    public static let guardOff = "gkt.leak-guard-off"

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        guard let forgotten = problem.forgetSet.forgottenClasses else {
            throw MethodNotApplicable(
                "gkt forgets whole classes (its gate works on the teacher's class probabilities); use --forget-classes")
        }
        let p = problem.parameters
        let model = problem.architecture(0)
        let settings = GKTSettings(
            forgotten: forgotten, classCount: model.classCount, imageShape: model.inputShape, seed: problem.seed,
            batchSize: p.int("batch-size"), studentSteps: p.int("student-steps"),
            pseudoBatches: p.int("pseudo-batches"), checkpointEvery: p.int("checkpoint-every"),
            restoreAfter: p.int("restore-after"), gate: p.float("gate"), temperature: p.float("temperature"),
            beta: p.float("beta"), clip: p.float("clip"), layers: try Self.attentionLayers(p.string("layers"), model),
            plateau: PlateauSchedule(
                key: "gkt.plateau", factor: p.float("plateau-factor"), patience: p.int("plateau-patience")))
        let models = try GKTModels(settings: settings, architecture: problem.architecture)
        let impressions = p.int("impressions")

        var phases = ForgetTarget.phases(for: problem, override: p.float("stop-accuracy"))
        phases.append(
            LocalPhase(name: "initialise impressions") { state in
                for label in forgotten {
                    var generator = SeededGenerator(seed: problem.seed, stream: "gkt-impression-\(label)")
                    state.tensors[GKTState.impression(label)] = Tensor.normal(
                        shape: [impressions] + model.inputShape, using: &generator)
                }
            })
        // Class impressions of the forgotten classes, learned on the original before the student replaces it.
        for label in forgotten {
            phases.append(
                InputLearningPhase(
                    name: "learn impressions of class \(label)", steps: p.int("impression-steps"),
                    tensor: GKTState.impression(label), optimizer: "impression \(label)", regularization: 0
                ) { _ in
                    GradientStep(
                        parts: [
                            BatchPart(
                                inputs: .tensorRows(name: GKTState.impression(label), rows: Array(0..<impressions)),
                                labels: Array(repeating: label, count: impressions), losses: [.crossEntropy(weight: 1)])
                        ], target: .inputs, isTraining: false, seed: 0)
                })
        }
        phases.append(
            LocalPhase(name: "fresh student") { state in
                state.saveStudent(as: GKTState.teacher)
                try state.student.load(stateDict: problem.architecture(problem.seed("gkt-student")).stateDict())
                try models.initialise(state)
            })
        phases.append(GKTTransfer(settings: settings, models: models))
        let guarded = p.bool("leak-guard")
        phases.append(LocalPhase(name: "leak guard") { try GKTLeakGuard.returnChosen($0, guarded: guarded) })
        return Plan(phases: phases) {
            var optimizers: [String: Optimizer] = [
                GKTState.generatorOptimizer: Adam(learningRate: p.float("generator-lr")),
                GKTState.studentOptimizer: Adam(learningRate: p.float("student-lr")),
            ]
            for label in forgotten { optimizers["impression \(label)"] = Adam(learningRate: p.float("impression-lr")) }
            return optimizers
        }
    }

    /// The layers `text` names ("auto": the model's residual stages, else its top-level convolutions; "none"),
    /// each checked to give [N, C, H, W] features.
    static func attentionLayers(_ text: String, _ model: Model) throws -> [String] {
        let layers: [String]
        switch text {
        case "none": return []
        case "auto":
            let children = model.root.children.compactMap { child in child.name.map { ($0, child.layer) } }
            let stages = children.filter { $0.1 is Sequential }.map(\.0)
            layers = stages.isEmpty ? children.filter { $0.1 is Conv2d }.map(\.0) : stages
        default:
            layers = text.split(separator: "+").map(String.init)
        }
        let known = model.layerPaths
        if let unknown = layers.first(where: { !known.contains($0) }) {
            throw MethodParameterError.outOfRange(
                "the model has no layer '\(unknown)' for attention transfer; it has \(known.joined(separator: ", "))")
        }
        let shapes = model.featureShapes(at: Set(layers))
        if let flat = layers.first(where: { shapes[$0]?.count != 4 }) {
            throw MethodParameterError.outOfRange(
                "attention transfer needs image features [N, C, H, W]; layer '\(flat)' gives \(shapes[flat] ?? [])")
        }
        return layers
    }
}
