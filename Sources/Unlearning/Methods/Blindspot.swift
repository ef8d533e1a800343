import Data
import NN
import Tensor

/// `blindspot` (Tarun et al., "Deep Regression Unlearning", ICML 2023): a regression model forgets a set by
/// imitating, on it, a "blindspot" model that never saw it. The blindspot model is trained briefly (2 epochs) on
/// the retain set from a fresh seeded initialisation; then the original gets one epoch (Adam) over the whole
/// training set whose loss per batch is
///
///     (1 − f) · mean_retain |y − target|  +  f · (mean_forget |y − y_blindspot| + β · Σ_layers AT(y, y_blindspot))
///
/// with f the share of forget samples in the batch and AT the attention-transfer difference at the chosen layers.
/// Because f · mean_forget = (1/B) Σ_forget, that is one step whose parts are the batch's retain rows (L1 to their
/// targets) and forget rows (L1 to the blindspot's outputs + β · attention to its maps), normalised by the batch
/// size B. The blindspot model's outputs and attention maps on the forget set are computed once, on the
/// coordinator, and kept in the plan state; the shards read their rows, so 1 or 3 shards and workers give the
/// same bits.
public struct Blindspot: UnlearningMethod {
    public let tasks: Set<LearningTask> = [.regression]
    public let name = "blindspot"
    public let summary = "Regression: imitate, on the forget set, a model trained briefly on the retain set only."
    public let parameters: [MethodParameters.Declaration] = [
        .init("blindspot-epochs", "2", "Epochs training the blindspot model on the retain set", .count(1...100)),
        .init(
            "blindspot-lr", "-1.0", "SGD learning rate of the blindspot model (-1: the original's)",
            .automaticOr(.positive)),
        .init("epochs", "1", "Unlearning epochs over the training set", .count(1...UnlearningLimits.epochs)),
        .init("lr", "0.001", "Adam learning rate of the unlearning epochs", .positive),
        .init("batch-size", "256", "Minibatch size of the unlearning epochs", .batchSize),
        .init("beta", "50", "β, weight of the attention difference on forget samples", .nonNegative),
        .init(
            "layers", "auto",
            "Layers of the attention difference, separated by '+' (auto: the residual stages, else the convolutions; none)"
        ),
    ]

    /// Plan-state names: the original while the blindspot model trains, and the blindspot's outputs and maps on
    /// the forget set (row i for `forgetSet.forget[i]`).
    static let original = "blindspot.original/"
    static let outputs = "blindspot.outputs"
    static let maps = "blindspot.maps/"
    static let optimizer = "blindspot adam"

    public init() {}

    public func plan(for problem: UnlearningProblem) throws -> Plan {
        try RegressionOnly.check(problem, method: name)
        let p = problem.parameters
        let model = problem.architecture(0)
        let layers = p.float("beta") > 0 ? try GKT.attentionLayers(p.string("layers"), model) : []
        var recipe = problem.recipe
        recipe.seed = problem.seed("blindspot-training")
        recipe.epochs = p.int("blindspot-epochs")
        recipe.decayEpochs = []
        if p.float("blindspot-lr") > 0 { recipe.learningRate = p.float("blindspot-lr") }
        if let problem = recipe.problem { throw MethodParameterError.outOfRange(problem) }
        let forget = problem.forgetSet.forget
        let train = problem.train

        var phases: [any PlanPhase] = [
            LocalPhase(name: "fresh blindspot model") { state in
                state.saveStudent(as: Self.original)
                try state.student.load(stateDict: problem.architecture(problem.seed("blindspot-model")).stateDict())
            }
        ]
        phases += TrainingPhases.epochs(
            recipe, indices: problem.forgetSet.retain, labels: train.labels, name: "blindspot",
            loss: problem.taskLoss(weight: 1))
        phases.append(
            LocalPhase(name: "blindspot outputs on the forget set") { state in
                let (outputs, maps) = Self.outputsAndMaps(state.student, on: train, forget, layers: layers)
                state.tensors[Self.outputs] = outputs
                for (layer, map) in maps { state.tensors[Self.maps + layer] = map }
                try state.restoreStudent(from: Self.original)
                for name in state.tensors.keys where name.hasPrefix(Self.original) { state.tensors[name] = nil }
            })
        let rowOf = Dictionary(uniqueKeysWithValues: forget.enumerated().map { ($1, $0) })
        let everything = (problem.forgetSet.retain + forget).sorted()
        for epoch in 0..<p.int("epochs") {
            let batches = problem.batches(of: everything, size: p.int("batch-size"), draw: "blindspot-\(epoch)")
            phases.append(
                GradientPhase(name: "unlearn epoch \(epoch + 1)", steps: batches.count, optimizer: Self.optimizer) {
                    step, _ in
                    Self.step(
                        batch: batches[step], forgetRow: { rowOf[$0] }, labels: train.labels, beta: p.float("beta"),
                        layers: layers, seed: problem.seed("blindspot-\(epoch)-\(step)"))
                })
        }
        return Plan(phases: phases) {
            [
                TrainingPhases.optimizer: TrainingPhases.makeOptimizer(recipe),
                Self.optimizer: Adam(learningRate: p.float("lr")),
            ]
        }
    }

    /// One unlearning step over `batch`: its retain rows learn their targets, its forget rows (those with a row in
    /// the blindspot's outputs) the blindspot's outputs and β × its attention maps; everything divided by the batch
    /// size, which weights the two by the forget share of the batch.
    static func step(
        batch: [Int], forgetRow: (Int) -> Int?, labels: [Int], beta: Float, layers: [String], seed: UInt64
    ) -> GradientStep {
        let retain = batch.filter { forgetRow($0) == nil }
        let forget = batch.filter { forgetRow($0) != nil }
        let rows = forget.map { forgetRow($0)! }
        var parts: [BatchPart] = []
        if !retain.isEmpty {
            parts.append(
                BatchPart(
                    inputs: .samples(retain), labels: retain.map { labels[$0] },
                    losses: [.absoluteError(target: .dataset, weight: 1)]))
        }
        if !forget.isEmpty {
            var losses: [LossComponent] = [.absoluteError(target: .tensorRows(name: outputs, rows: rows), weight: 1)]
            if beta > 0 && !layers.isEmpty {
                losses.append(.attentionToMaps(maps: maps, rows: rows, layers: layers, weight: beta))
            }
            parts.append(BatchPart(inputs: .samples(forget), labels: forget.map { labels[$0] }, losses: losses))
        }
        return GradientStep(parts: parts, normalizer: Float(batch.count), seed: seed)
    }

    /// `model`'s outputs [F, K] on training samples `indices` and its attention maps [F, H·W] at `layers`, in
    /// inference mode, in chunks of a fixed size (the same bits wherever it runs).
    static func outputsAndMaps(_ model: Model, on train: Dataset, _ indices: [Int], layers: [String]) -> (
        Tensor, [String: Tensor]
    ) {
        let chunk = 256
        var outputs: [Tensor] = []
        var maps: [String: [Tensor]] = [:]
        for start in stride(from: 0, to: indices.count, by: chunk) {
            let rows = Array(indices[start..<min(start + chunk, indices.count)])
            let tap = layers.isEmpty ? nil : FeatureTap(paths: Set(layers))
            outputs.append(model.forward(train.batch(indices: rows).images, mode: .inference, tap: tap))
            for layer in layers { maps[layer, default: []].append(attentionMaps(tap!.features[layer]!)) }
        }
        return (Tensor.concatenate(outputs), maps.mapValues { Tensor.concatenate($0) })
    }
}

/// Methods written for regression models refuse classification problems with a typed error.
enum RegressionOnly {
    static func check(_ problem: UnlearningProblem, method: String) throws(MethodNotApplicable) {
        guard problem.train.isRegression else {
            throw MethodNotApplicable(
                "\(method) unlearns regression models (targets to predict); \(problem.train.name) is a classification dataset"
            )
        }
    }
}
