import Jobs
import NN
import Transport
import Wire

/// Loads a task's weights into the student as the forward pass reaches each layer (waiting for those still on the
/// wire), and checks the whole state against the task's weights version once everything is in.
final class WeightsGate {
    let model: Model
    private let arrival: WeightsArrival
    private let context: JobContext
    /// State tensor names by parameter.
    private let names: [ObjectIdentifier: String]
    private var loaded = Set<ObjectIdentifier>()
    private var checked = false
    private var failure: ProtocolError?

    init(model: Model, arrival: WeightsArrival, context: JobContext) {
        self.model = model
        self.arrival = arrival
        self.context = context
        names = Dictionary(uniqueKeysWithValues: model.namedState.map { (ObjectIdentifier($0.parameter), $0.name) })
    }

    /// Gives `layer`'s parameters and buffers the task's values (after a failure it leaves them: `check` throws).
    func load(_ layer: Layer) {
        for (_, parameter) in layer.namedState where failure == nil {
            let key = ObjectIdentifier(parameter)
            guard !loaded.contains(key), let name = names[key] else { continue }
            do throws(ProtocolError) {
                let tensor = try arrival.tensor(name)
                guard tensor.shape == parameter.value.shape else {
                    throw ProtocolError(
                        .badShape,
                        "the weights sent do not fit \(context.architecture): '\(name)' has shape \(tensor.shape), "
                            + "expected \(parameter.value.shape)")
                }
                parameter.value = tensor
                loaded.insert(key)
            } catch {
                failure = error
            }
        }
    }

    /// Loads what no forward pass reached and checks the state against the task's weights version (once).
    func check() throws(ProtocolError) {
        if !checked {
            checked = true
            model.root.children.forEach { load($0.layer) }
            if failure == nil, case let digest = WeightsVersion.of(model), digest != context.weightsVersion {
                failure = ProtocolError(
                    .badRequest, "the weights sent hash to \(digest), not \(context.weightsVersion)")
            }
        }
        if let failure { throw failure }
    }
}
