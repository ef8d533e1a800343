import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Transport
import Wire

/// A federated client's side of the protocol: introduces itself with its partition's class counts, computes
/// each round task on its own thread (its data never leaves it) and answers with its update. Like a worker it
/// says hello again when the coordinator stops hearing it, so it rejoins after a restart or a network cut.
public final class ClientNode: CoordinatorLinked, @unchecked Sendable {
    let transport: Transport
    private let computer: ClientComputer
    let lock = NSLock()
    private let compute = DispatchQueue(label: "lethe.client.compute")
    var link: CoordinatorLink<ClientToCoordinator>
    public private(set) var tasksDone = 0
    let logger: Logger

    public init(
        transport: Transport, computer: ClientComputer, hello: Hello,
        logger: Logger = Logger(label: "lethe.client", factory: SwiftLogNoOpLogHandler.init)
    ) {
        self.transport = transport
        self.logger = logger
        self.computer = computer
        link = CoordinatorLink(transport: transport, hello: hello)
    }

    /// Serves until the transport closes, the task is cancelled or a graceful shutdown (then says goodbye).
    public func run() async { await serveUntilShutdown() }

    func receive(_ envelope: Envelope<CoordinatorToClient>) {
        switch envelope.message {
        case .welcome(let welcome):
            link.welcomed(welcome)
            log("joined the federation with \(computer.data.count) samples")
        case .heartbeat:
            break
        case .roundTask(let task):
            log("round \(task.round) of \(task.job): \(task.kind)")
            compute.async { [self] in
                let reply: Envelope<ClientToCoordinator>
                do throws(ProtocolError) {
                    reply = try computer.run(task, tensors: envelope.tensors)
                } catch {
                    reply = Envelope(.error(error))
                }
                lock.withLock {
                    if case .roundUpdate = reply.message { tasksDone += 1 }
                    var answer = reply
                    answer.requestID = envelope.requestID
                    transport.send(answer, to: nil)
                }
            }
        case .error(let error):
            log("coordinator: \(error.message)")
        }
    }
}

extension ClientNode: Service {}
