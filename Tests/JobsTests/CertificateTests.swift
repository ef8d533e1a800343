import Crypto
import Foundation
import LetheTesting
import NN
import Testing
import Unlearning

@testable import Jobs

/// Canonical JSON, the forget set's Merkle commitment and the certificate's signature, on small inputs.
struct CertificateTests {
    @Test func canonicalJSONHasOneFormAndParsesBackToTheSameBytes() throws {
        let value = CanonicalJSON.object([
            "b": .array([.integer(-3), .number(0.9216666666666666), .number(2.0), .number(1e-5), .bool(true), .null]),
            "a": .string("quote \" backslash \\ newline \n é"),
            "Z": .object([:]),
        ])
        let expected =
            #"{"Z":{},"a":"quote \" backslash \\ newline \u000a é","b":[-3,0.9216666666666666,2,1e-05,true,null]}"#
        #expect(value.text == expected)
        // Whitespace and key order in the input do not matter; the written bytes are the same.
        let loose =
            " { \"b\" : [ -3 , 0.9216666666666666, 2, 1e-05, true, null ], \"a\": \"quote \\\" backslash \\\\ newline \\n \\u00e9\", \"Z\": {} } "
        #expect(try CanonicalJSON(parsing: Array(loose.utf8)).text == expected)
        for bad in ["{\"a\":1,\"a\":2}", "[1,]", "{\"a\" 1}", "\"open", "1 2", "[" + String(repeating: "[", count: 70)]
        {
            #expect(throws: CanonicalJSONError.self) { try CanonicalJSON(parsing: Array(bad.utf8)) }
        }
    }

    @Test func merkleRootsAndProofsFollowRFC6962() {
        let data = labelledDataset(perClass: [3, 3, 3], seed: 4)
        // One leaf: the root is the leaf; two: the node over both.
        let one = ForgetCommitment(forget: [4], in: data)
        #expect(
            one.root
                == ForgetCommitment.leaf(index: 4, sampleSha256: ForgetCommitment.sampleSha256(4, in: data)).hexDigits)
        let two = ForgetCommitment(forget: [7, 2], in: data)
        let leaves = [2, 7].map {
            ForgetCommitment.leaf(index: $0, sampleSha256: ForgetCommitment.sampleSha256($0, in: data))
        }
        #expect(two.root == ForgetCommitment.node(leaves[0], leaves[1]).hexDigits)
        // Every leaf of every size proves against its root, and against nothing else.
        for size in 1...9 {
            let commitment = ForgetCommitment(forget: Array(0..<size), in: data)
            for index in 0..<size {
                let proof = commitment.proof(for: index, in: data)!
                #expect(proof.verify(root: commitment.root), "size \(size), leaf \(index)")
                #expect(!proof.verify(root: two.root))
                let moved = InclusionProof(
                    index: (index + 1) % 9, sampleSha256: proof.sampleSha256, position: proof.position,
                    size: proof.size, path: proof.path, root: proof.root)
                #expect(!moved.verify())
            }
        }
        #expect(ForgetCommitment(forget: [0, 1], in: data).proof(for: 5, in: data) == nil)
        // A set of 1,000: its first, a middle and its last sample prove.
        let large = labelledDataset(perClass: Array(repeating: 110, count: 10), seed: 5)
        let thousand = ForgetCommitment(
            forget: Array(stride(from: 0, to: 1_100, by: 1)).filter { $0 % 11 != 3 }, in: large)
        #expect(thousand.size == 1_000)
        for index in [thousand.indices.first!, thousand.indices[500], thousand.indices.last!] {
            #expect(thousand.proof(for: index, in: large)?.verify(root: thousand.root) == true, "sample \(index)")
        }
        #expect(thousand.proof(for: 3, in: large) == nil)
        // The same set in any order commits to the same root; another sample does not.
        #expect(
            ForgetCommitment(forget: [1, 0, 2], in: data).root == ForgetCommitment(forget: [0, 1, 2], in: data).root)
        #expect(
            ForgetCommitment(forget: [0, 1, 3], in: data).root != ForgetCommitment(forget: [0, 1, 2], in: data).root)
    }

    @Test func aSignedCertificateVerifiesAndAnyChangeOrOtherKeyFails() throws {
        let key = Curve25519.Signing.PrivateKey()
        let body = CanonicalJSON.object([
            "format": .string(UnlearningCertificate.format), "output_sha256": .string("ab"), "figure": .number(0.5),
        ])
        let signed = try UnlearningCertificate(body: body).signed(with: key)
        let read = try UnlearningCertificate(parsing: signed.document.bytes)
        try read.verifySignature(with: key.publicKey)
        #expect(read.digest == signed.digest && read.body == body)

        let edited = signed.document.text.replacingOccurrences(of: "0.5", with: "0.6")
        let tampered = try UnlearningCertificate(parsing: Array(edited.utf8))
        #expect(throws: CertificateError.self) { try tampered.verifySignature(with: key.publicKey) }
        #expect(throws: CertificateError.self) {
            try read.verifySignature(with: Curve25519.Signing.PrivateKey().publicKey)
        }
        #expect(throws: CertificateError.self) { try UnlearningCertificate(parsing: Array("{\"format\":\"x\"}".utf8)) }
    }

    /// Flipping any one field of a signed certificate, each in turn, fails verification naming that field; an edit
    /// of the signed digests themselves fails on the signature.
    @Test func flippingAnyFieldFailsNamingIt() throws {
        let key = Curve25519.Signing.PrivateKey()
        let body = CanonicalJSON.object([
            "format": .string(UnlearningCertificate.format), "method": .string("scrub"),
            "params": .object(["lr": .string("0.01"), "epochs": .string("3")]), "seed": .string("1"),
            "shards": .integer(2), "passed": .bool(true),
            "dataset": .object(["name": .string("fashion-mnist"), "train_sha256": .string("ab")]),
            "forget": .object([
                "selection": .object(["classes": .array([.integer(0)])]), "merkle_root": .string("cd"),
                "samples": .integer(6000),
            ]),
            "figures": .object([
                "after": .object(["forget_accuracy": .number(0.001), "test_accuracy": .number(0.8)]),
                "per_class": .array([.object(["label": .integer(1), "after": .number(0.9)])]),
            ]),
        ])
        let document = try UnlearningCertificate(body: body).signed(with: key).document
        func flipped(_ value: CanonicalJSON) -> CanonicalJSON {
            switch value {
            case .string(let text): .string(text + "0")
            case .integer(let number): .integer(number + 1)
            case .number(let number): .number(number + 0.5)
            case .bool(let flag): .bool(!flag)
            case .array(let items): .array(items + [.null])
            case .null, .object: .integer(1)
            }
        }
        func replacing(_ path: [String], in value: CanonicalJSON) -> CanonicalJSON {
            guard let first = path.first, case .object(var members) = value, let member = members[first] else {
                return flipped(value)
            }
            members[first] = replacing(Array(path.dropFirst()), in: member)
            return .object(members)
        }
        let fields = CertificateFields.digests(of: body).keys.sorted()
        #expect(fields.contains("figures.after.forget_accuracy") && fields.contains("forget.selection.classes"))
        for field in fields where field != "format" {
            let edited = replacing(field.split(separator: ".").map(String.init), in: document)
            let read = try UnlearningCertificate(parsing: edited.bytes)
            let error = #expect(throws: CertificateError.self) { try read.verifySignature(with: key.publicKey) }
            #expect(error?.field == field, "\(field): \(String(describing: error))")
        }
        let digestsEdited = replacing(["signature", "fields", "seed"], in: replacing(["seed"], in: document))
        let error = #expect(throws: CertificateError.self) {
            try UnlearningCertificate(parsing: digestsEdited.bytes).verifySignature(with: key.publicKey)
        }
        #expect(error?.field == "signature")
    }

    /// A coordinator knows a job's references by the manifest its audit bundle carries; the digest it certifies must
    /// be the hash of the manifest file a verifier holds (`--references DIR` on replay).
    @Test func referencesDigestFromABundleIsTheManifestFilesHash() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var recipe = TrainingRecipe()
        recipe.learningRate = 0.013
        let identity = ReferenceManifest.DatasetIdentity(
            name: "toy", sha256: String(repeating: "a", count: 64), samples: 7)
        let manifest = ReferenceManifest(
            dataset: identity, architecture: "fmnist-mlp", recipe: recipe, split: TrainingSplit(), seed: 3,
            references: 1,
            entries: [
                ReferenceManifest.Entry(
                    file: "reference-00.safetensors", sha256: String(repeating: "b", count: 64), trainingSeed: 9,
                    members: 4, membersSha256: String(repeating: "c", count: 64))
            ])
        try manifest.write(to: directory.url.path)
        let file = try Data(contentsOf: URL(fileURLWithPath: directory.path(ReferenceManifest.fileName)))
        let carried = try JSONDecoder.snakeCase.decode(
            AuditBundle.self,
            from: try AuditBundle(
                references: "refs", manifest: manifest, dataset: identity, testSha256: identity.sha256
            )
            .encoded())
        let digest = try ReferenceDigest(carried.manifest)
        #expect(digest.manifestSha256 == sha256Hex(file) && digest.count == 1)
    }
}
