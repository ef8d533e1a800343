import Foundation
import Jobs
import Tensor
import Wire

/// A task's tensors as they arrive: those of the task message, then the rest of its weights in `shardTaskWeights`
/// messages. The transport's thread adds them; the computing thread waits for the ones a layer needs, so that it
/// computes the first layers while the later layers' weights are still on the wire.
final class WeightsArrival: @unchecked Sendable {  // every access to the stored state holds `condition`
    /// How long the computing thread waits for a tensor before it gives the task up.
    static let patience: TimeInterval = 30
    private let condition = NSCondition()
    private var tensors: [String: Tensor]
    private var failure: ProtocolError?

    init(_ tensors: [NamedTensor]) {
        self.tensors = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every tensor received so far.
    var received: [String: Tensor] { condition.withLock { tensors } }

    /// Adds tensors that came later. A name that came before is refused (the tensors are kept as they were).
    func add(_ more: [NamedTensor]) throws(ProtocolError) {
        condition.lock()
        defer { condition.unlock() }
        if let repeated = more.first(where: { tensors[$0.name] != nil }) {
            throw ProtocolError(.badRequest, "the task's tensor '\(repeated.name)' came twice")
        }
        for named in more { tensors[named.name] = named.tensor }
        condition.broadcast()
    }

    /// Stops every wait: the task's weights will not all come (the coordinator restarted, or sent a bad part).
    func fail(_ error: ProtocolError) {
        condition.withLock {
            if failure == nil { failure = error }
            condition.broadcast()
        }
    }

    /// The tensor named `name` once it is here.
    func tensor(_ name: String) throws(ProtocolError) -> Tensor {
        let deadline = Date().addingTimeInterval(Self.patience)
        condition.lock()
        defer { condition.unlock() }
        while tensors[name] == nil && failure == nil {
            guard condition.wait(until: deadline) else {
                failure = ProtocolError(
                    .badRequest, "the task's tensor '\(name)' did not come within \(Int(Self.patience)) s")
                break
            }
        }
        if let failure { throw failure }
        return tensors[name]!
    }
}
