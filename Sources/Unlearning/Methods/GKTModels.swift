import NN
import Tensor

/// What GKT keeps in the plan state (so a resumed run has it) and the settings of its loop.
enum GKTState {
    static let teacher = "gkt.teacher/"
    static let generator = "gkt.generator/"
    static let generatorCheckpoint = "gkt.generator-checkpoint/"
    static let kept = "gkt.kept/"
    /// The pseudo-batch's latent codes and the images made from them.
    static let latent = "gkt.z"
    static let images = "gkt.x"
    /// Labels: the rows of `images` that passed the gate, and the teacher's class for each.
    static let gatedRows = "gkt.gated-rows"
    static let gatedLabels = "gkt.gated-labels"
    static let generatorOptimizer = "gkt generator"
    static let studentOptimizer = "gkt student"

    static func impression(_ label: Int) -> String { "gkt.impression.\(label)" }
}

struct GKTSettings {
    let forgotten: [Int]
    let classCount: Int
    let imageShape: [Int]
    let seed: UInt64
    let batchSize: Int
    let studentSteps: Int
    let pseudoBatches: Int
    let checkpointEvery: Int
    let restoreAfter: Int
    let gate: Float
    let temperature: Float
    let beta: Float
    let clip: Float
    let layers: [String]
    let plateau: PlateauSchedule
    let latentSize = 128

    /// Plan steps per pseudo-batch: one generator step, then the student's.
    var period: Int { 1 + studentSteps }
}

/// The generator and the teacher a GKT run computes with on the coordinator (the student steps go to the
/// executor). Both are rebuilt from the plan state, which holds every value, so a resumed run computes the same.
final class GKTModels {
    let settings: GKTSettings
    let generator: ImageGenerator
    private let teacherModel: Model
    private var teacherLoaded = false
    /// The plan step whose images the generator's last forward pass made (its caches serve that step's backward).
    var forwardedStep: Int?

    init(settings: GKTSettings, architecture: (UInt64) -> Model) throws(GeneratorShapeError) {
        self.settings = settings
        var seeds = SeededGenerator(seed: settings.seed, stream: "gkt-generator")
        generator = try ImageGenerator(
            imageShape: settings.imageShape, latentSize: settings.latentSize, seed: seeds.next())
        teacherModel = architecture(0)
    }

    /// Puts the generator's initial state (also its first checkpoint) into the plan state.
    func initialise(_ state: PlanState) throws {
        for (name, parameter) in generator.namedState {
            state.tensors[GKTState.generator + name] = parameter.value
            state.tensors[GKTState.generatorCheckpoint + name] = parameter.value
        }
    }

    /// The original, as saved in the plan state before the student was replaced.
    func teacher(_ state: PlanState) throws -> Model {
        if !teacherLoaded {
            try teacherModel.load(
                stateDict: teacherModel.stateDict().map {
                    (name: $0.name, tensor: state.tensors[GKTState.teacher + $0.name]!)
                })
            teacherLoaded = true
        }
        return teacherModel
    }

    /// Images for latent codes `z` from the generator in the plan state (its batch statistics updated there).
    func generate(_ z: Tensor, state: PlanState, step: Int?) -> Tensor {
        for (name, parameter) in generator.namedState { parameter.value = state.tensors[GKTState.generator + name]! }
        let images = generator(z)
        for (name, parameter) in generator.namedState where !parameter.isTrainable {
            state.tensors[GKTState.generator + name] = parameter.value
        }
        forwardedStep = step
        return images
    }

    /// One generator step from ∂loss/∂images of the last `generate`: clip, Adam, values back to the plan state.
    func update(imageGradient: Tensor, state: PlanState) {
        generator.zeroGradients()
        generator.backward(imageGradient)
        clipGradientNorm(of: generator.namedParameters, to: settings.clip)
        state.optimizer(GKTState.generatorOptimizer).update(parameters: generator.namedParameters)
        for (name, parameter) in generator.namedParameters {
            state.tensors[GKTState.generator + name] = parameter.value
        }
    }

    /// Copies the generator's state between `from` and `to` prefixes (checkpointing and restoring).
    static func copyGenerator(_ state: PlanState, from: String, to: String) {
        for (name, tensor) in state.tensors where name.hasPrefix(from) {
            state.tensors[to + String(name.dropFirst(from.count))] = tensor
        }
    }

    /// The rows of `images` the gate lets through: the teacher gives every forgotten class at most τ. With the
    /// teacher's class of each row.
    func gate(_ images: Tensor, state: PlanState) throws -> (rows: [Int], labels: [Int]) {
        let logits = try teacher(state).forward(images, mode: .inference)
        return Self.gate(teacherLogits: logits, forgotten: settings.forgotten, threshold: settings.gate)
    }

    static func gate(teacherLogits: Tensor, forgotten: [Int], threshold: Float) -> (rows: [Int], labels: [Int]) {
        let probabilities = softmax(teacherLogits)
        let classes = teacherLogits.shape[1]
        let predicted = teacherLogits.argmaxRows()
        let rows = (0..<teacherLogits.shape[0]).filter { row in
            forgotten.allSatisfy { probabilities.scalars[row * classes + $0] <= threshold }
        }
        return (rows, rows.map { predicted[$0] })
    }
}
