/// Everything the federated arithmetic refuses. Every message says what was wrong and how to fix it.
public enum FederatedError: Error, Equatable, Sendable {
    /// A partition scheme that is neither `iid` nor `dirichlet:ALPHA` with a positive, finite alpha.
    case badPartitionScheme(text: String, reason: String)
    /// Fewer than one client.
    case noClients(clients: Int)
    /// `clients × minimumSamples` exceeds the number of samples, so no split can satisfy the minimum.
    case tooManyClients(clients: Int, samples: Int, minimumSamples: Int)
    /// A label outside 0..<classCount.
    case labelOutOfRange(index: Int, label: Int, classCount: Int)
    /// Every Dirichlet redraw left some client with fewer than `minimumSamples` samples.
    case partitionFailed(scheme: String, clients: Int, minimumSamples: Int, attempts: Int)
    /// A backdoor spec that cannot be parsed or has a value out of range.
    case badBackdoor(text: String, reason: String)
    /// A backdoor target class the dataset does not have.
    case backdoorTargetOutOfRange(target: Int, classCount: Int)
    /// A trigger patch larger than the images.
    case backdoorPatchTooLarge(patch: Int, height: Int, width: Int)
    /// A parameter that `context` (a client update, a ledger, the weights) should have but lacks.
    case missingParameter(name: String, context: String)
    /// A parameter in `context` that the others do not have.
    case unexpectedParameter(name: String, context: String)
    /// A parameter whose shape in `context` differs from the expected one.
    case shapeMismatch(name: String, expected: [Int], found: [Int], context: String)
    /// A reference (or first update) with no parameters at all.
    case noParameters(context: String)
    /// FedAvg was given no updates.
    case noUpdates
    /// A FedAvg update with a negative sample count.
    case negativeSamples(update: Int, samples: Int)
    /// FedAvg updates whose sample counts add up to zero.
    case zeroSamples(updates: Int)
    /// ConDa was given no ledgers of remaining clients to compare the forgotten client with.
    case noRemainingClients
}

extension FederatedError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .badPartitionScheme(let text, let reason):
            return "bad partition scheme '\(text)': \(reason); use 'iid' or 'dirichlet:ALPHA' with ALPHA > 0 "
                + "(e.g. 'dirichlet:0.5')"
        case .noClients(let clients):
            return "cannot partition among \(clients) clients; use at least 1 client"
        case .tooManyClients(let clients, let samples, let minimumSamples):
            return "\(clients) clients with at least \(minimumSamples) samples each need \(clients * minimumSamples) "
                + "samples, but the dataset has \(samples); use at most \(samples / max(minimumSamples, 1)) clients "
                + "or a smaller minimum"
        case .labelOutOfRange(let index, let label, let classCount):
            return "sample \(index) has label \(label), outside 0..<\(classCount); check the class count"
        case .partitionFailed(let scheme, let clients, let minimumSamples, let attempts):
            return "\(attempts) draws of the \(scheme) partition all left some of the \(clients) clients with fewer "
                + "than \(minimumSamples) samples; use fewer clients, a larger alpha or a smaller minimum"
        case .badBackdoor(let text, let reason):
            return "bad backdoor spec '\(text)': \(reason); use e.g. 'fraction:0.1,target:0,patch:3' "
                + "(fraction in (0, 1], target ≥ 0, patch ≥ 1; missing keys take these defaults)"
        case .backdoorTargetOutOfRange(let target, let classCount):
            return "backdoor target class \(target) does not exist: the dataset has classes 0..<\(classCount); "
                + "choose a target below \(classCount)"
        case .backdoorPatchTooLarge(let patch, let height, let width):
            return "backdoor patch \(patch)×\(patch) does not fit \(height)×\(width) images; "
                + "use a patch of at most \(min(height, width))"
        case .missingParameter(let name, let context):
            return "\(context) has no parameter '\(name)'; every update and ledger must carry the same parameters"
        case .unexpectedParameter(let name, let context):
            return "\(context) has an unexpected parameter '\(name)'; every update and ledger must carry the same "
                + "parameters"
        case .shapeMismatch(let name, let expected, let found, let context):
            return "parameter '\(name)' in \(context) has shape \(found), expected \(expected); "
                + "all clients must train the same architecture"
        case .noParameters(let context):
            return "\(context) has no parameters; pass the model's state dict"
        case .noUpdates:
            return "FedAvg needs at least one client update; wait until a client has reported"
        case .negativeSamples(let update, let samples):
            return "update \(update) claims \(samples) samples; sample counts must be zero or more"
        case .zeroSamples(let updates):
            return "the \(updates) updates report zero samples in total, so they cannot be weighted; "
                + "aggregate updates from clients that trained on data"
        case .noRemainingClients:
            return "ConDa needs the ledger of at least one remaining client to compare the forgotten client with; "
                + "a federation of one client can only be retrained"
        }
    }
}
