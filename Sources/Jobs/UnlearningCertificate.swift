import Crypto
import Data
import Foundation
import NN
import Tensor
import Unlearning

/// A signed claim that a run removed a forget set from a model: "these samples (committed to by a Merkle root)
/// were removed from model X (sha256), giving model Y, by this method with these fully resolved parameters, seed,
/// shards, holdout and BLAS kernels, with this evidence". The body is canonical JSON (`CanonicalJSON`), so its
/// bytes are a function of its content; the Ed25519 signature covers those bytes. Anyone with the public key can
/// check it (`verify`), and with the input checkpoint and the data, replay the run and compare the output's hash.
public struct UnlearningCertificate: Sendable {
    public static let format = "lethe-unlearning-certificate/1"
    /// Everything the signature covers.
    public let body: CanonicalJSON
    public let signature: Signature?

    public struct Signature: Sendable, Equatable {
        public static let algorithm = "ed25519"
        /// Base64 of the raw 32-byte public key and of the 64-byte signature.
        public let publicKey: String
        public let value: String
        /// Each body field's digest (`CertificateFields`) and base64 of the signature over them: what names the field
        /// of a certificate changed after signing (absent from older certificates).
        public let fields: CanonicalJSON?
        public let fieldsValue: String?

        var json: CanonicalJSON {
            var members: [String: CanonicalJSON] = [
                "algorithm": .string(Self.algorithm), "public_key": .string(publicKey), "value": .string(value),
            ]
            if let fields, let fieldsValue {
                members["fields"] = fields
                members["fields_value"] = .string(fieldsValue)
            }
            return .object(members)
        }
    }

    public init(body: CanonicalJSON, signature: Signature? = nil) {
        self.body = body
        self.signature = signature
    }

    /// The body of a run's certificate. `request` holds what a replay needs besides the input checkpoint and the
    /// data (model, forget selection, holdout, references); `job` the coordinator's job id and requesting key.
    public static func body(
        report: UnlearningReport, commitment: ForgetCommitment, selection: ForgetSelection, dataset: DatasetDigest,
        version: String, references: ReferenceDigest?, job: (id: String, requester: String)? = nil
    ) -> CanonicalJSON {
        var members: [String: CanonicalJSON] = [
            "format": .string(format),
            "lethe_version": .string(version),
            "blas_kernels": .string(report.blas),
            "method": .string(report.method),
            "params": .object(report.params.mapValues { .string($0) }),
            "seed": .string(String(report.seed)),
            "shards": .integer(Int64(report.shards)),
            "holdout": .string(report.holdout?.spec ?? "validation"),
            "model": .string(report.model),
            "input_sha256": .string(report.inputSha256),
            "output_sha256": .string(report.outputSha256),
            "dataset": dataset.json,
            "forget": .object([
                "selection": selection.json,
                "description": .string(report.forget.selection),
                "samples": .integer(Int64(commitment.size)),
                "merkle_root": .string(commitment.root),
            ]),
            "figures": figures(report),
            "passed": .bool(report.regression.map { $0.passed == true } ?? report.verdict?.passed ?? false),
        ]
        if let references { members["references"] = references.json }
        // The images' normalisation (the dataset hashes pin it; this says it in words, and a replay needs it).
        if let preprocessing = report.preprocessing { members["preprocessing"] = .string(preprocessing.summary) }
        if let job {
            members["job"] = .object(["id": .string(job.id), "requester_key": .string(job.requester)])
        }
        return .object(members)
    }

    /// The report's key figures: accuracies before and after, each class's change, the audit when there was one.
    static func figures(_ report: UnlearningReport) -> CanonicalJSON {
        func accuracies(_ verification: VerificationReport?) -> CanonicalJSON {
            guard let verification else { return .null }
            var members: [String: CanonicalJSON] = [
                "forget_accuracy": .number(verification.forgetAccuracy),
                "retain_accuracy": .number(verification.retainAccuracy),
                "test_accuracy": .number(verification.testAccuracy),
            ]
            if let population = verification.retainPopulation {  // the retain accuracy is a sample's estimate
                members["retain_samples"] = .integer(Int64(verification.retainSamples))
                members["retain_population"] = .integer(Int64(population))
            }
            return .object(members)
        }
        var figures: [String: CanonicalJSON] = [
            "before": accuracies(report.before), "after": accuracies(report.after),

            "per_class": .array(
                (report.perClass ?? []).map { fidelity in
                    var row: [String: CanonicalJSON] = [
                        "label": .integer(Int64(fidelity.label)), "before": .number(fidelity.before),
                        "after": .number(fidelity.after), "flagged": .bool(fidelity.flagged),
                    ]
                    if let retrain = fidelity.retrain { row["retrain"] = .number(retrain) }
                    return .object(row)
                }),
        ]
        if let regression = report.regression {
            func errors(_ evaluation: RegressionEvaluation?) -> CanonicalJSON {
                guard let evaluation else { return .null }
                return .object([
                    "forget_l1": .number(evaluation.forget.l1), "retain_l1": .number(evaluation.retain.l1),
                    "test_l1": .number(evaluation.test.l1), "mia": .number(evaluation.mia),
                ])
            }
            figures["regression"] = .object([
                "before": errors(regression.before), "after": errors(regression.after),
                "retrain": errors(regression.reference),
            ])
        }
        if let audit = report.audit {
            figures["audit"] = .object([
                "auc": .number(audit.figures.auc), "tpr_at_1pct_fpr": .number(audit.figures.tprAt1pctFpr),
                "flagged": .integer(Int64(audit.figures.flaggedAt1pctFpr.count)), "exposed": .bool(audit.exposed),
            ])
        }
        return .object(figures)
    }

    /// The certificate signed with `key`.
    public func signed(with key: Curve25519.Signing.PrivateKey) throws -> UnlearningCertificate {
        let value = try key.signature(for: body.bytes)
        let fields = CanonicalJSON.object(CertificateFields.digests(of: body))
        return UnlearningCertificate(
            body: body,
            signature: Signature(
                publicKey: key.publicKey.rawRepresentation.base64EncodedString(),
                value: Data(value).base64EncodedString(), fields: fields,
                fieldsValue: Data(try key.signature(for: fields.bytes)).base64EncodedString()))
    }

    /// The whole document: the body with its signature.
    public var document: CanonicalJSON {
        guard let signature, case .object(var members) = body else { return body }
        members["signature"] = signature.json
        return .object(members)
    }

    /// The document as a file holds it: its canonical bytes and a newline.
    public var fileBytes: Data { Data(document.bytes + [0x0A]) }

    /// sha256 of the signed bytes: the certificate's digest, as reports show it.
    public var digest: String { sha256Hex(Data(body.bytes)) }

    /// Reads a certificate file.
    public init(parsing bytes: [UInt8]) throws(CertificateError) {
        let document: CanonicalJSON
        do { document = try CanonicalJSON(parsing: bytes) } catch { throw CertificateError.malformed("\(error)") }
        guard let format = document["format"]?.stringValue, [Self.format, Self.clientFormat].contains(format) else {
            throw .malformed(
                "not a \(Self.format) or \(Self.clientFormat) document (its format field says \(document["format"].map { $0.text } ?? "nothing"))"
            )
        }
        body = document.removing("signature")
        if let signed = document["signature"] {
            guard signed["algorithm"]?.stringValue == Signature.algorithm,
                let publicKey = signed["public_key"]?.stringValue, let value = signed["value"]?.stringValue
            else { throw .malformed("its signature is not an ed25519 signature with public_key and value") }
            signature = Signature(
                publicKey: publicKey, value: value, fields: signed["fields"],
                fieldsValue: signed["fields_value"]?.stringValue)
        } else {
            signature = nil
        }
    }

    /// Checks the signature against the key a verifier was given (not the one the document names).
    public func verifySignature(with key: Curve25519.Signing.PublicKey) throws(CertificateError) {
        guard let signature else { throw .invalid(field: "signature", "the certificate is not signed") }
        guard signature.publicKey == key.rawRepresentation.base64EncodedString() else {
            throw .invalid(field: "signature.public_key", "signed by another key (\(signature.publicKey))")
        }
        guard let value = Data(base64Encoded: signature.value), key.isValidSignature(value, for: body.bytes) else {
            // The signed field digests, when they are intact, say which field changed.
            if case .object(let fields)? = signature.fields, let fieldsValue = signature.fieldsValue,
                let fieldsSignature = Data(base64Encoded: fieldsValue),
                key.isValidSignature(fieldsSignature, for: signature.fields!.bytes),
                let changed = CertificateFields.firstChanged(in: body, signed: fields)
            {
                throw .invalid(field: changed, "changed after signing (its signed digest no longer matches)")
            }
            throw .invalid(field: "signature", "does not match the content: the certificate was changed after signing")
        }
    }
}

/// What identifies the data a run saw: the dataset's name and sha256 of its training and test samples as loaded.
public struct DatasetDigest: Sendable, Equatable {
    public let name: String
    public let trainSha256: String
    public let testSha256: String

    /// The digest of datasets in memory, hashed, or with a `memo` remembered from an earlier run on the same files.
    public init(train: Dataset, test: Dataset, memo: DigestMemo? = nil) throws {
        name = train.name
        let sha256 = { (dataset: Dataset) throws -> String in
            try memo?.sha256(of: dataset) ?? DatasetBlob.sha256(dataset)
        }
        // Both at once: each hash is one sequential stream on one core, and the other core would wait.
        (trainSha256, testSha256) = try Parallel.both({ try sha256(train) }, { try sha256(test) })
    }

    /// The digest of data held as blobs (`DatasetBlob`), whose hashes are these.
    public init(name: String, trainBlob: String, testBlob: String) {
        self.name = name
        trainSha256 = trainBlob
        testSha256 = testBlob
    }

    var json: CanonicalJSON {
        .object(["name": .string(name), "train_sha256": .string(trainSha256), "test_sha256": .string(testSha256)])
    }
}

/// The membership-audit references a run used (they steer a difficulty-matched run, so a replay needs them).
public struct ReferenceDigest: Sendable, Equatable {
    public let manifestSha256: String
    public let count: Int

    public init(manifestSha256: String, count: Int) {
        self.manifestSha256 = manifestSha256
        self.count = count
    }

    /// The digest of references known by their manifest (as `ReferenceManifest.write` writes it).
    public init(_ manifest: ReferenceManifest) throws {
        self.init(
            manifestSha256: sha256Hex(try JSONEncoder.sorted.encode(manifest)), count: manifest.references)
    }

    var json: CanonicalJSON {
        .object(["manifest_sha256": .string(manifestSha256), "count": .integer(Int64(count))])
    }
}

extension ForgetSelection {
    /// The selection as a replay states it (a listed set by its size only: the Merkle root commits to it).
    var json: CanonicalJSON {
        switch self {
        case .classes(let classes): .object(["classes": .array(classes.map { .integer(Int64($0)) })])
        case .fraction(let fraction, let seed): .object(["fraction": .number(fraction), "seed": .string(String(seed))])
        case .indices(let indices): .object(["listed": .integer(Int64(indices.count))])
        case .confusion(let classes, let count):
            .object([
                "confuse_classes": .array(classes.map { .integer(Int64($0)) }), "confuse_count": .integer(Int64(count)),
            ])
        case .targetRange(let lower, let upper):
            .object(["target_range": .array([.number(Double(lower)), .number(Double(upper))])])
        }
    }
}

/// Why a certificate cannot be read (exit 2) or does not hold (exit 1, naming the first field that fails).
public enum CertificateError: Error, CustomStringConvertible {
    case malformed(String)
    case invalid(field: String, String)

    /// The field that failed, for an invalid certificate.
    public var field: String? {
        guard case .invalid(let field, _) = self else { return nil }
        return field
    }

    public var description: String {
        switch self {
        case .malformed(let why): "the certificate cannot be read: \(why)"
        case .invalid(let field, let why): "invalid: \(field): \(why)"
        }
    }
}
