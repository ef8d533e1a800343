import ArgumentParser
import Coordinator
import Jobs
import Transport

/// `lethe keys init|add-worker|add-user|revoke`.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create CURVE keys and manage the coordinator's allowlists.",
        subcommands: [Initialize.self, AddWorker.self, AddUser.self, AddClient.self, Revoke.self])

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

    struct AddWorker: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-worker", abstract: "Allow a worker's public key to connect.")
        @Option(help: "Key directory.") var keys: String
        @Option(help: "A note kept next to the key.") var comment: String?
        @Argument(help: "The worker's Z85 public key.") var publicKey: String
        func run() throws { try KeyDirectory(keys).add(publicKey, to: .workers, comment: comment) }
    }

    struct AddUser: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-user", abstract: "Allow a user's public key to submit and query jobs.")
        @Option(help: "Key directory.") var keys: String
        @Option(help: "A note kept next to the key.") var comment: String?
        @Argument(help: "The user's Z85 public key.") var publicKey: String
        func run() throws { try KeyDirectory(keys).add(publicKey, to: .users, comment: comment) }
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
