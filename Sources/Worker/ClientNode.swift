import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Synchronization
import Transport
import Wire

/// A federated client's side of the protocol: introduces itself with its partition's class counts, computes
/// each round task on its own thread (its data never leaves it) and answers with its update. Like a worker it
/// says hello again when the coordinator stops hearing it, so it rejoins after a restart or a network cut.
public final class ClientNode: CoordinatorLinked, Sendable {
    let transport: Transport
    let logger: Logger
    private let computer: ClientComputer
    /// Computes one round task at a time on a thread of its own, off Swift's cooperative pool (long synchronous
    /// work there would starve the node's other tasks, the heartbeat among them).
    private let compute = DispatchQueue(label: "lethe.client.compute")
    let state: Mutex<State>

    struct State: CoordinatorLinkedState {
        var link: CoordinatorLink<ClientToCoordinator>
        var tasksDone = 0
    }

    public init(
        transport: Transport, computer: ClientComputer, hello: Hello,
        logger: Logger = Logger(label: "lethe.client", factory: SwiftLogNoOpLogHandler.init)
    ) {
        self.transport = transport
        self.logger = logger
        self.computer = computer
        state = Mutex(State(link: CoordinatorLink(transport: transport, hello: hello)))
    }

    /// Round tasks computed so far.
    public var tasksDone: Int { state.withLock { $0.tasksDone } }

    /// Serves until the transport closes, the task is cancelled or a graceful shutdown (then says goodbye).
    public func run() async { await serveUntilShutdown() }

    func receive(_ envelope: Envelope<CoordinatorToClient>, _ state: inout State) {
        switch envelope.message {
        case .welcome:
            log("joined the federation with \(computer.data.count) samples")
        case .heartbeat:
            break
        case .roundTask(let task):
            log("round \(task.round) of \(task.job): \(task.kind)")
            compute.async { [self] in
                var reply: Envelope<ClientToCoordinator>
                do throws(ProtocolError) {
                    reply = try computer.run(task, tensors: envelope.tensors)
                } catch {
                    reply = Envelope(.error(error))
                }
                reply.requestID = envelope.requestID
                withState { state in
                    if case .roundUpdate = reply.message { state.tasksDone += 1 }
                    transport.send(reply, to: nil)
                }
            }
        case .error(let error):
            log("coordinator: \(error.message)")
        }
    }
}

extension ClientNode: Service {}
