import ArgumentParser
import Coordinator
import Jobs
import Transport

/// `lethe keys init|add-worker|add-user|revoke`.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create CURVE keys and manage the coordinator's allowlists.",
        subcommands: [Initialize.self, Allow<Workers>.self, Allow<Users>.self, AddClient.self, Revoke.self])

    struct Initialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create coordinator, worker and user key pairs in DIR (worker and user already allowed).")
        @Argument(help: "Key directory to create.") var directory: String

        func run() throws {
            let keys = try KeyDirectory.initialize(directory)
            print("coordinator \(try keys.publicKey(.coordinator))")
            print("worker      \(try keys.publicKey(.worker))")
            print("user        \(try keys.publicKey(.user))")
            let signing = try SigningKey.loadPublic(directory).rawRepresentation.base64EncodedString()
            print("signing     \(signing) (Ed25519, signs certificates; verifiers get \(SigningKey.publicFile))")
        }
    }

    /// `keys add-worker` and `keys add-user`: puts a public key on one of the coordinator's allowlists.
    struct Allow<List: AllowlistCommand>: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: List.commandName, abstract: List.abstract)
        }
        @Option(help: "Key directory.") var keys: String
        @Option(help: "A note kept next to the key.") var comment: String?
        @Argument(help: "The \(List.holder)'s Z85 public key.") var publicKey: String
        func run() throws { try KeyDirectory(keys).add(publicKey, to: List.allowlist, comment: comment) }
    }

    enum Workers: AllowlistCommand {
        static let allowlist = KeyDirectory.Allowlist.workers
        static let holder = "worker"
        static let commandName = "add-worker"
        static let abstract = "Allow a worker's public key to connect."
    }

    enum Users: AllowlistCommand {
        static let allowlist = KeyDirectory.Allowlist.users
        static let holder = "user"
        static let commandName = "add-user"
        static let abstract = "Allow a user's public key to submit and query jobs."
    }

    struct AddClient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-client",
            abstract: "Create a federated client's own key pair in DIR/clients and allow it (prints its public key).")
        @Option(help: "Key directory.") var keys: String
        @Argument(help: "The client's name (`lethe client --name`).") var name: String
        func run() throws { print(try KeyDirectory(keys).addClient(name)) }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Remove a key from both allowlists (new connections are refused).")
        @Option(help: "Key directory.") var keys: String
        @Argument(help: "The Z85 public key.") var publicKey: String
        func run() throws {
            guard try KeyDirectory(keys).revoke(publicKey) else {
                throw ValidationError("\(publicKey) is on neither allowlist")
            }
        }
    }
}

/// An allowlist that `lethe keys` adds to, with its subcommand.
protocol AllowlistCommand {
    static var allowlist: KeyDirectory.Allowlist { get }
    /// Whose keys the list holds ("worker", "user").
    static var holder: String { get }
    static var commandName: String { get }
    static var abstract: String { get }
}
