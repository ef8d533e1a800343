import Checkpoint
import Foundation
import NN
import Tensor
import Unlearning

/// What runs on the same original keep for later ones: the original's predictions and reusable phases' outcomes.
public struct RunCache: Sendable {
    public let predictions: PredictionStore
    public let phases: PhaseStore
    /// Verification baselines by forget set, seed, data and reference (`BaselineReuse`).
    public let baselines: PhaseStore
    /// The data's digests by the files they were loaded from (nil: always hashed).
    public let digests: DigestMemo?

    public init(predictions: PredictionStore, phases: PhaseStore, baselines: PhaseStore, digests: DigestMemo? = nil) {
        self.predictions = predictions
        self.phases = phases
        self.baselines = baselines
        self.digests = digests
    }

    /// All kept in `directory` (`predictions/`, `phases/`, `baselines/`, `digests/`), least recently used entries
    /// pruned past `budget`.
    public init(directory: URL, budget: CacheBudget = CacheBudget()) {
        predictions = DirectoryPredictionStore(shelf: CacheShelf(root: directory, kind: "predictions", budget: budget))
        phases = DirectoryPhaseStore(shelf: CacheShelf(root: directory, kind: "phases", budget: budget))
        baselines = DirectoryPhaseStore(shelf: CacheShelf(root: directory, kind: "baselines", budget: budget))
        digests = DigestMemo(shelf: CacheShelf(root: directory, kind: "digests", budget: budget))
    }
}

/// Where the outcomes of reusable phases (`ReusablePhase`) are kept between runs on the same original (issue 15,
/// per-model work done once), by a key naming everything they depend on.
public protocol PhaseStore: Sendable {
    func load(key: String) -> [String: Tensor]?
    func save(_ tensors: [String: Tensor], key: String)
}

/// A cache shelf of `<key>.safetensors` files (`lethe unlearn`'s cache directory); unreadable entries are misses.
public struct DirectoryPhaseStore: PhaseStore {
    public let shelf: CacheShelf

    public init(shelf: CacheShelf) { self.shelf = shelf }

    public func load(key: String) -> [String: Tensor]? {
        guard let data = shelf.read(key: key), let file = try? SafetensorsFile(data: data) else { return nil }
        return Dictionary(uniqueKeysWithValues: file.entries.map { ($0.name, $0.tensor) })
    }

    public func save(_ tensors: [String: Tensor], key: String) {
        let sorted = tensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }
        if let data = try? SafetensorsFile(tensors: sorted).serialized() { shelf.write(data, key: key) }
    }
}

/// A plan whose reusable phases come from `store` when an earlier run on the same original left their outcome
/// there (each such phase becomes one with no steps that restores it), and are kept there otherwise.
public struct PhaseReuse {
    /// Bump when what a reusable phase computes changes, so that older outcomes are not reused.
    public static let revision = 1

    public let store: PhaseStore
    /// Everything a reusable phase's outcome depends on besides its own identity.
    let context: CanonicalJSON

    public init(store: PhaseStore, modelSha256: String, architecture: String, trainSha256: String, shards: Int) {
        self.store = store
        context = .object([
            "revision": .integer(Int64(Self.revision)), "model_sha256": .string(modelSha256),
            "architecture": .string(architecture), "train": .string(trainSha256), "shards": .integer(Int64(shards)),
            "blas": .string(BLAS.kernelIdentity),
        ])
    }

    func key(_ phase: any ReusablePhase) -> String {
        guard case .object(var members) = context else { return "" }
        members["phase"] = .string(phase.identity)
        return sha256Hex(Data(CanonicalJSON.object(members).bytes))
    }

    /// A phase restored from the store, and its key there.
    public struct Reused: Sendable, Equatable {
        public let phase: String
        public let key: String
    }

    /// `plan` with its reusable phases restored or kept; `reused` names what was restored.
    public func apply(to plan: Plan) -> (plan: Plan, reused: [Reused]) {
        var reused: [Reused] = []
        var result = plan
        result.phases = plan.phases.map { phase in
            guard let reusable = phase as? any ReusablePhase else { return phase }
            let key = key(reusable)
            if let tensors = store.load(key: key) {
                reused.append(Reused(phase: phase.name, key: key))
                return RestoredPhase(name: "\(phase.name) (reused)", tensors: tensors)
            }
            return KeptPhase(phase: reusable, key: key, store: store)
        }
        return (result, reused)
    }
}

/// A reusable phase's outcome, restored from the store: no steps.
struct RestoredPhase: PlanPhase {
    let name: String
    let tensors: [String: Tensor]
    var stepCount: Int { 0 }
    func begin(_ state: PlanState) throws { state.tensors.merge(tensors) { $1 } }
    func work(at step: Int, _ state: PlanState) throws -> Work { .local }
    func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl { .proceed }
}

/// A reusable phase computed as usual, its outcome kept in the store once its last step is done.
struct KeptPhase: PlanPhase {
    let phase: any ReusablePhase
    let key: String
    let store: PhaseStore
    var name: String { phase.name }
    var stepCount: Int { phase.stepCount }
    func begin(_ state: PlanState) throws { try phase.begin(state) }
    func work(at step: Int, _ state: PlanState) throws -> Work { try phase.work(at: step, state) }
    func finish(step: Int, result: WorkResult, _ state: PlanState) throws -> PhaseControl {
        let control = try phase.finish(step: step, result: result, state)
        if control == .proceed, step == stepCount - 1 {
            let prefix = phase.outputPrefix + "/"
            store.save(state.tensors.filter { $0.key.hasPrefix(prefix) }, key: key)
        }
        return control
    }
}
