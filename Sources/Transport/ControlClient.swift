import Foundation
import Wire
import ZeroMQ

/// The CLI's connection to a coordinator's control endpoint: one request at a time, each answered by a reply
/// with the same request id (or a timeout). Uploads and downloads blobs in bounded chunks, resuming from what
/// the other side already holds.
public final class ControlClient: Sendable {
    private let transport: Transport
    private let mailbox = Locked<[Received]>([])
    private let pump: Task<Void, Never>
    private let lastRequestID = Locked<UInt64>(0)
    public let timeoutSeconds: Double

    public init(transport: Transport, timeoutSeconds: Double = 30) {
        self.transport = transport
        self.timeoutSeconds = timeoutSeconds
        let incoming = transport.incoming
        pump = Task { [mailbox] in
            for await received in incoming { mailbox.withLock { $0.append(received) } }
        }
    }

    public func close() {
        pump.cancel()
        transport.close()
    }

    /// Sends `message` and returns the reply's message; an error reply is thrown as `ProtocolError`.
    public func request(_ message: ControlRequest) async throws -> ControlReply {
        let id = lastRequestID.withLock {
            $0 += 1
            return $0
        }
        transport.send(Envelope(message, requestID: id), to: nil)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw ControlError.timeout(seconds: timeoutSeconds) }
            let received = try await next(within: remaining)
            guard let received else { throw ControlError.timeout(seconds: timeoutSeconds) }
            let envelope: Envelope<ControlReply>
            do throws(WireError) {
                envelope = try WireCodec.decode(received.frames)
            } catch {
                guard case .unexpected(_, let requestID, _) = error else { throw error }
                guard requestID == id else { continue }  // not a reply to anything
                throw ControlError.unexpectedReply
            }
            if case .error(let error) = envelope.message, envelope.requestID == id || envelope.requestID == 0 {
                throw error  // request id 0: the coordinator could not even read which request it refuses
            }
            guard envelope.requestID == id else { continue }  // a late reply to an abandoned request
            return envelope.message
        }
    }

    /// Uploads `data` unless the coordinator already has it; returns its hash.
    @discardableResult
    public func upload(_ data: Data, kind: String) async throws -> String {
        let sha256 = BlobStore.sha256(data)
        guard
            case .blobStored(var stored) = try await request(
                .blobOffer(BlobOffer(sha256: sha256, totalBytes: data.count, kind: kind)))
        else { throw ControlError.unexpectedReply }
        while !stored.complete {
            let end = min(stored.storedBytes + WireProtocol.Limits.blobChunkBytes, data.count)
            let chunk = BlobChunk(
                sha256: sha256, offset: stored.storedBytes, totalBytes: data.count,
                data: [UInt8](data[stored.storedBytes..<end]))
            guard case .blobStored(let next) = try await request(.blobUpload(chunk)) else {
                throw ControlError.unexpectedReply
            }
            stored = next
        }
        return sha256
    }

    /// Downloads a blob and checks its hash.
    public func download(_ sha256: String) async throws -> Data {
        var data = Data()
        var total = Int.max
        while data.count < total {
            guard
                case .blobChunk(let chunk) = try await request(
                    .blobRequest(BlobRequest(sha256: sha256, offset: data.count)))
            else { throw ControlError.unexpectedReply }
            total = chunk.totalBytes
            guard !chunk.data.isEmpty || data.count == total else { throw ControlError.unexpectedReply }
            data.append(contentsOf: chunk.data)
        }
        guard BlobStore.sha256(data) == sha256 else { throw BlobError.corrupt(sha256, actual: BlobStore.sha256(data)) }
        return data
    }

    /// The next received message, or nil after `seconds` (the CLI polls its mailbox; requests are rare). Throws
    /// `ControlError.cannotConnect` as soon as the transport knows why the coordinator cannot be reached.
    private func next(within seconds: Double) async throws -> Received? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let received = mailbox.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return received }
            if let problem = transport.connectionProblem { throw ControlError.cannotConnect(problem) }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }
}

public enum ControlError: Error, CustomStringConvertible {
    /// Connected (as far as the transport knows), but no answer came in time.
    case timeout(seconds: Double)
    case unexpectedReply
    /// The coordinator cannot be reached, for the reason the problem gives.
    case cannotConnect(ConnectionProblem)

    public var description: String {
        switch self {
        case .timeout(let seconds):
            "the coordinator did not answer within \(Int(seconds)) s (is it running, and are the address and keys right?)"
        case .unexpectedReply: "the coordinator sent an unexpected reply"
        case .cannotConnect(let problem): problem.explanation(allowlist: .users)
        }
    }
}
