import ArgumentParser
import Coordinator
import Foundation
import Jobs
import Transport
import ZeroMQ

/// How a command reaches the coordinator's control endpoint: address and credentials.
struct ClusterOptions: ParsableArguments {
    @Option(
        help:
            "The coordinator's control endpoint, tcp://HOST:PORT or HOST:PORT or ipc://PATH (default: $LETHE_COORDINATOR or tcp://127.0.0.1:7701)."
    )
    var coordinator: String?
    @Option(help: "Key directory (`lethe keys init`), default $LETHE_KEYS; uses its user key.")
    var keys: String?
    @Flag(help: "Talk to a coordinator that runs with --insecure (plaintext, no authentication).")
    var insecure = false
    @Option(help: "Seconds to wait for each answer from the coordinator.") var timeout = 30.0

    func validate() throws {
        _ = try endpoint()  // a malformed endpoint is bad usage, refused before any socket work
    }

    /// `--coordinator`, else $LETHE_COORDINATOR, else the default.
    func endpoint() throws(ValidationError) -> Endpoint {
        if let coordinator { return try parseEndpoint(coordinator, given: "--coordinator") }
        if let variable = ProcessInfo.processInfo.environment["LETHE_COORDINATOR"] {
            return try parseEndpoint(variable, given: "LETHE_COORDINATOR")
        }
        return try parseEndpoint("tcp://127.0.0.1:7701", given: "the default endpoint")
    }

    func connect() throws -> ControlClient {
        let context = try ZeroMQContext()
        let transport = try ZeroMQTransport.client(
            context, connect: try endpoint().description,
            security: try security(role: .user, insecure: insecure, keys: keys))
        return ControlClient(transport: transport, timeoutSeconds: timeout)
    }
}

/// `text`, an endpoint that `given` (an option or variable) names, or a `ValidationError` (exit code 2) that says
/// what is wrong with it and which forms are expected.
func parseEndpoint(_ text: String, given: String) throws(ValidationError) -> Endpoint {
    do throws(EndpointError) {
        return try Endpoint(parsing: text)
    } catch {
        throw ValidationError("\(given): \(error)")
    }
}

/// CURVE credentials of `role` from `--keys` / $LETHE_KEYS, or plaintext with `--insecure` (explicit only). A
/// federated client (`client` names it) connects like a worker, with its own key pair.
func security(role: KeyDirectory.Role, insecure: Bool, keys: String?, client: String? = nil) throws
    -> TransportSecurity
{
    if insecure { return .insecure }
    guard let path = keys ?? ProcessInfo.processInfo.environment["LETHE_KEYS"] else {
        throw ValidationError(
            "give --keys DIR (or set LETHE_KEYS; create keys with `lethe keys init DIR`), or --insecure for plaintext")
    }
    let directory = KeyDirectory(path)
    if let client {
        return .curveClient(try directory.clientKeyPair(client), serverPublicKey: try directory.publicKey(.coordinator))
    }
    switch role {
    case .coordinator: return .curveServer(try directory.keyPair(.coordinator))
    case .worker, .user:
        return .curveClient(try directory.keyPair(role), serverPublicKey: try directory.publicKey(.coordinator))
    }
}

/// Warns when plaintext is used beyond this machine.
func warnIfExposed(_ endpoint: Endpoint, insecure: Bool) {
    guard insecure else { return }
    if !endpoint.isLocal {
        log(
            "warning: \(endpoint) is served in plaintext without authentication (--insecure); anyone who can reach it can submit jobs or join as a worker"
        )
    }
}

/// How a worker or a federated client reaches the coordinator (each has its own `--keys`, with its own help).
struct CoordinatorEndpointOptions: ParsableArguments {
    @Option(help: "The coordinator's worker endpoint: tcp://HOST:PORT, HOST:PORT or ipc://PATH.")
    var coordinator = "tcp://127.0.0.1:7700"
    @Flag(help: "Plaintext without authentication.") var insecure = false

    func validate() throws { _ = try parseEndpoint(coordinator, given: "--coordinator") }

    /// A connection to the coordinator with the worker key in `keys`, or with the named client's own key there.
    func connect(keys: String?, client: String? = nil) throws -> ZeroMQTransport {
        try ZeroMQTransport.client(
            try ZeroMQContext(), connect: try parseEndpoint(coordinator, given: "--coordinator").description,
            security: try security(role: .worker, insecure: insecure, keys: keys, client: client))
    }
}
