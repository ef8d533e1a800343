import ArgumentParser
import Crypto
import Data
import Foundation
import Jobs
import Tensor
import Transport
import Unlearning

/// `lethe certificate verify|prove|check-proof`: checks a signed unlearning certificate (and replays its run),
/// and proves one sample's membership in its forget set without the others.
struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate", abstract: "Verify unlearning certificates and prove forget-set membership.",
        subcommands: [Verify.self, Prove.self, CheckProof.self])

    /// What a certificate's run read, given by the verifier: the input checkpoint and the data.
    struct RunInputs: ParsableArguments {
        @Option(help: "The input checkpoint the certificate names (input_sha256).") var weightsIn: String?
        @Option(help: "The dataset the run read (its samples must hash to the certificate's).")
        var data = "fashion-mnist"
        @Option(help: "For a listed forget set: its index file (it must hash to the certificate's Merkle root).")
        var forgetIndices: String?
        @Option(help: "The run's --normalize, when its input checkpoint does not record its normalisation.")
        var normalize: String?

        /// `--data` and `--normalize` as the run's commands take them.
        var dataArguments: [String] { ["--data", data] + (normalize.map { ["--normalize", $0] } ?? []) }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a certificate's signature and, when given, the output checkpoint's hash; --replay re-runs the recorded job and compares the output bit for bit. Exit 0 valid, 1 invalid (naming the first field that fails), 2 bad usage."
        )
        @Argument(help: "The certificate (JSON).") var certificate: String
        @Option(help: "The signer's public key (signing.pub from `lethe keys init`, or its directory).")
        var publicKey: String
        @Option(help: "The unlearned checkpoint, to check against output_sha256.") var weights: String?
        @Flag(help: "Re-run the recorded job locally (needs --weights-in and --data; same BLAS kernels).")
        var replay = false
        @Option(help: "With --replay, when the run used them: the membership-audit references (manifest_sha256).")
        var references: String?
        @OptionGroup var inputs: RunInputs

        func validate() throws {
            if replay, inputs.weightsIn == nil { throw ValidationError("--replay needs --weights-in") }
        }

        func run() async throws {
            let certificate = try CertificateFile.read(self.certificate)
            try certificate.verifySignature(with: SigningKey.loadPublic(publicKey))
            var checks = ["signature by \(certificate.signature!.publicKey)"]
            let body = certificate.body
            if let weights {
                try CertificateFile.expect(body, "output_sha256", equals: try sha256(weights), what: weights)
                checks.append("\(weights) is the output")
            }
            if replay {
                guard !certificate.isClientForgetting else {
                    throw ValidationError(
                        "a forget-client certificate cannot be replayed here: its repair rounds ran on the clients' own data"
                    )
                }
                let replayed = try await Replay(certificate: body, inputs: inputs, references: references).run()
                try CertificateFile.expect(body, "output_sha256", equals: replayed, what: "the replayed output")
                checks.append("replayed: the same output sha256 \(replayed)")
            }
            print("valid: " + checks.joined(separator: "; ") + " (digest \(certificate.digest))")
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the inclusion proof (JSON) of one forget sample against a certificate's Merkle root.")
        @Argument(help: "The certificate (JSON).") var certificate: String
        @Option(help: "The sample's training index.") var index: Int
        @OptionGroup var inputs: RunInputs

        func run() async throws {
            let certificate = try CertificateFile.read(self.certificate)
            guard !certificate.isClientForgetting else {
                throw ValidationError(
                    "a forget-client certificate names a client, not forget samples: there is nothing to prove")
            }
            let body = certificate.body
            let (commitment, train) = try ReplayInputs.commitment(of: body, inputs: inputs)
            guard let proof = commitment.proof(for: index, in: train) else {
                throw ValidationError("training sample \(index) is not in this certificate's forget set")
            }
            print(String(decoding: try JSONEncoder.sorted.encode(proof), as: UTF8.self))
        }
    }

    struct CheckProof: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-proof",
            abstract:
                "Check an inclusion proof against a certificate's root (without the rest of the forget set); with --data, also that it is this sample's. Exit 0 valid, 1 invalid."
        )
        @Argument(help: "The proof (JSON from `lethe certificate prove`).") var proof: String
        @Option(help: "The certificate whose forget.merkle_root the proof must reach.") var certificate: String
        @Option(help: "The dataset, to check that the proof's sample hash is the sample at its index.") var data:
            String?
        @Option(help: "With --data: the run's normalisation, when it was not the dataset's default.")
        var normalize: String?

        func run() throws {
            let proof: InclusionProof
            do {
                proof = try JSONDecoder.snakeCase.decode(
                    InclusionProof.self, from: Data(contentsOf: URL(fileURLWithPath: self.proof)))
            } catch { throw ValidationError("\(self.proof) is not an inclusion proof: \(error)") }
            let body = try CertificateFile.read(certificate).body
            guard let root = body["forget"]?["merkle_root"]?.stringValue else {
                throw CertificateError.malformed("it has no forget.merkle_root")
            }
            guard proof.verify(root: root) else {
                throw CertificateError.invalid(
                    field: "forget.merkle_root",
                    "the proof for training sample \(proof.index) does not lead to the certificate's root \(root)")
            }
            if let data {
                let normalization = try normalize.map { try Normalization(text: $0) }
                let train = try DatasetLoader.load(data, split: .train, normalization: normalization)
                guard train.count > proof.index,
                    ForgetCommitment.sampleDigest(proof.index, in: train) == proof.sampleSha256
                else {
                    throw CertificateError.invalid(
                        field: "sample_sha256", "training sample \(proof.index) of \(data) is not the sample proven")
                }
            }
            print("valid: training sample \(proof.index) is in the forget set of \(certificate) (root \(root))")
        }
    }
}

/// Reading certificates and checking their fields.
enum CertificateFile {
    static func read(_ path: String) throws -> UnlearningCertificate {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the certificate \(path)")
        }
        return try UnlearningCertificate(parsing: Array(bytes))
    }

    /// Fails naming `field` when the certificate's value is not `value`.
    static func expect(_ body: CanonicalJSON, _ field: String, equals value: String, what: String) throws {
        let path = field.split(separator: ".").map(String.init)
        var node: CanonicalJSON? = body
        for key in path { node = node?[key] }
        guard let recorded = node?.stringValue else { throw CertificateError.malformed("it has no \(field)") }
        guard recorded == value else {
            throw CertificateError.invalid(field: field, "the certificate says \(recorded), \(what) gives \(value)")
        }
    }
}

/// The forget set and data a certificate's run read, rebuilt from the verifier's inputs and checked against it.
enum ReplayInputs {
    /// The command-line arguments that select the certificate's forget set.
    static func forgetArguments(_ body: CanonicalJSON, inputs: CertificateCommand.RunInputs) throws -> [String] {
        guard case .object(let selection)? = body["forget"]?["selection"] else {
            throw CertificateError.malformed("it has no forget.selection")
        }
        let list = { (key: String) -> String in
            guard case .array(let values)? = selection[key] else { return "" }
            return values.map { $0.text }.joined(separator: ",")
        }
        if selection["classes"] != nil { return ["--forget-classes", list("classes")] }
        if let fraction = selection["fraction"] { return ["--forget-fraction", fraction.text] }
        if selection["confuse_classes"] != nil {
            return ["--confuse-classes", list("confuse_classes"), "--confuse-count", selection["confuse_count"]!.text]
        }
        guard let indices = inputs.forgetIndices else {
            throw ValidationError("the certificate's forget set is a list: give it with --forget-indices FILE")
        }
        return ["--forget-indices", indices]
    }

    /// The forget set's commitment from the verifier's data, checked against the certificate's root and dataset.
    static func commitment(of body: CanonicalJSON, inputs: CertificateCommand.RunInputs) throws -> (
        ForgetCommitment, Dataset
    ) {
        guard let weights = inputs.weightsIn else {
            throw ValidationError("--weights-in: the input checkpoint (its split decides which samples were drawn)")
        }
        try CertificateFile.expect(body, "input_sha256", equals: try sha256(weights), what: weights)
        let forget = try ForgetOptions.parse(try forgetArguments(body, inputs: inputs))
        let seed = UInt64(body["seed"]?.stringValue ?? "") ?? 0
        let dataOptions = try DataOptions.parse(inputs.dataArguments)
        let scenario = try Scenario.load(
            modelOptions: try ModelOptions.parse(["--model", body["model"]?.stringValue ?? ""]),
            dataOptions: dataOptions, forgetOptions: forget, weights: weights, seed: seed, validationFraction: nil)
        let train = try scenario.load(.train, from: dataOptions)
        let test = try scenario.load(.test, from: dataOptions)
        let digest = try DatasetDigest(train: train, test: test)
        try CertificateFile.expect(body, "dataset.train_sha256", equals: digest.trainSha256, what: inputs.data)
        try CertificateFile.expect(body, "dataset.test_sha256", equals: digest.testSha256, what: inputs.data)
        let commitment = ForgetCommitment(forget: scenario.forgetSet.forget, in: train)
        try CertificateFile.expect(body, "forget.merkle_root", equals: commitment.root, what: "the forget set")
        return (commitment, train)
    }
}

/// Re-runs a certificate's job with `lethe unlearn` and returns the output's sha256.
struct Replay {
    let certificate: CanonicalJSON
    let inputs: CertificateCommand.RunInputs
    let references: String?

    func run() async throws -> String {
        let body = certificate
        guard let kernels = body["blas_kernels"]?.stringValue else {
            throw CertificateError.malformed("it has no blas_kernels")
        }
        guard kernels == BLAS.kernelIdentity else {
            throw ValidationError(
                "cannot replay here: the run computed with \(kernels) and this machine's BLAS kernels are \(BLAS.kernelIdentity); the same kernels are needed for the same bits"
            )
        }
        _ = try ReplayInputs.commitment(of: body, inputs: inputs)
        var arguments = try ReplayInputs.forgetArguments(body, inputs: inputs)
        if body["references"] != nil {
            guard let references else {
                throw ValidationError("the run used membership-audit references: give them with --references DIR")
            }
            let manifest = URL(fileURLWithPath: references).appendingPathComponent(ReferenceManifest.fileName)
            try CertificateFile.expect(
                body, "references.manifest_sha256", equals: try BlobStore.sha256(contentsOf: manifest),
                what: references)
            arguments += ["--references", references]
        } else {
            arguments += ["--references", "none"]
        }
        guard case .object(let params)? = body["params"] else { throw CertificateError.malformed("it has no params") }
        for (key, value) in params.sorted(by: { $0.key < $1.key }) where key != "keep-failed" {
            arguments += ["--param", "\(key)=\(value.stringValue ?? value.text)"]
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-replay-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("replayed.safetensors").path
        arguments +=
            [
                "--model", body["model"]?.stringValue ?? "", "--weights", inputs.weightsIn!,
                "--method", body["method"]?.stringValue ?? "", "--seed", body["seed"]?.stringValue ?? "",
                "--shards", body["shards"]?.text ?? "1", "--holdout", body["holdout"]?.stringValue ?? "validation",
                "--keep-failed", "--no-cache", "--out", out,
            ] + inputs.dataArguments
        log("replaying: lethe unlearn " + arguments.joined(separator: " "))
        let command = try UnlearnCommand.parse(arguments)
        do { try await command.run() } catch is any MissedTargets {}  // kept (--keep-failed): compare its bits anyway
        return try sha256(out)
    }
}

private func sha256(_ path: String) throws -> String { try BlobStore.sha256(contentsOf: URL(fileURLWithPath: path)) }
