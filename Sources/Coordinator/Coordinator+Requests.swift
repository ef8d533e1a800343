import Foundation
import Jobs
import Transport
import Unlearning
import Wire

/// The CLI's requests (DESIGN §6): each is audited with the key it authenticated with; a refused one is answered
/// with a typed error by its request id.
extension Coordinator {
    func handle(_ received: Received) {
        guard
            let envelope: Envelope<ControlRequest> = received.envelope(refusing: { error in
                if case .unexpected(let kind, let requestID, let refusal) = error {
                    return refuse(received.peer, kind: kind, requestID: requestID, refusal)
                }
                logger.warning("refused a request from \(received.peer): \(error)")
                state.audit(Refusal(received.peer, endpoint: "control", reason: "malformed", message: "\(error)"))
                // Answer the refused request by its id where it can be read, so the requester hears why at once.
                reply(
                    Envelope(
                        .error(ProtocolError(error.code, "\(error)")),
                        requestID: WireCodec.requestID(received.frames) ?? 0), to: received.peer)
            })
        else { return }
        let key = received.peer.key ?? "insecure"
        guard !isStopping else {
            let refusal = ProtocolError(.internalError, "the coordinator is shutting down; try again once it is back")
            return reply(Envelope(.error(refusal), requestID: envelope.requestID), to: received.peer)
        }
        do {
            let answer = try respond(to: envelope.message, from: key)
            reply(Envelope(answer, requestID: envelope.requestID), to: received.peer)
        } catch {
            refuse(
                received.peer, kind: envelope.message.kind, requestID: envelope.requestID,
                error as? ProtocolError ?? ProtocolError(.internalError, "\(error)"))
        }
    }

    /// Audits a refused request by its kind and answers it with the refusal.
    private func refuse(_ peer: Peer, kind: String, requestID: UInt64, _ refusal: ProtocolError) {
        state.audit(Refusal(peer, endpoint: "control", reason: kind, message: refusal.message))
        reply(Envelope(.error(refusal), requestID: requestID), to: peer)
    }

    private func respond(to message: ControlRequest, from key: String) throws -> ControlReply {
        switch message {
        case .jobSubmit(let submitted): .jobAccepted(id: try submit(submitted, by: key))
        case .jobQuery(let id): .jobStatus(status(try known(id)))
        case .jobList: .jobList(try state.jobs().map(status))
        case .jobCancel(let id): .jobStatus(try cancel(id, by: key))
        case .jobResultRequest(let id): .jobResult(try outputs(of: id, for: key))
        case .workerQuery: .workerList(peerSummaries)
        case .blobOffer(let offer): .blobStored(stored(offer))
        case .blobUpload(let chunk): .blobStored(try store(chunk, from: key))
        case .blobRequest(let request): .blobChunk(try blobChunk(request))
        }
    }

    /// Checks a job and queues it.
    private func submit(_ submitted: JobSpec, by key: String) throws -> String {
        let spec = try resolve(submitted)
        try check(spec)
        let id = try state.submit(spec, by: key)
        try state.audit(
            key: key, action: "submit", job: id,
            detail: [
                "method": spec.method, "forget": spec.forget, "input_sha256": spec.weightsSHA256,
                "train_sha256": spec.trainSHA256, "seed": String(spec.seed), "shards": String(spec.shards),
                "params": spec.params.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: ","),
                "kind": spec.kind ?? "unlearning", "client": spec.client ?? "", "source_job": spec.sourceJob ?? "",
            ].filter { !$0.value.isEmpty })
        logger.info(
            "\(id) queued: \(spec.method) forgetting \(spec.forget)", metadata: ["job": "\(id)", "key": "\(key)"])
        wake?.yield()
        return id
    }

    /// Cancels a queued or running job (a running one stops at its next step).
    private func cancel(_ id: String, by key: String) throws -> JobStatus {
        let job = try known(id)
        guard !job.state.isFinished else { throw ProtocolError(.badRequest, "\(id) already \(job.state)") }
        try state.audit(key: key, action: "cancel", job: id)
        if job.state == .queued { try state.update(id, state: .cancelled, message: "cancelled before it ran") }
        pool.cancel(job: id)
        clients.cancel(job: id)
        return status(try known(id))
    }

    /// A finished job's outputs. A failed job has them only when it was asked to keep them (`keep-failed`); its
    /// report says why it failed.
    private func outputs(of id: String, for key: String) throws -> JobOutputs {
        let job = try known(id)
        guard [.succeeded, .failed].contains(job.state), let outputs = job.outputs else {
            throw ProtocolError(.badRequest, "\(id) is \(job.state)\(job.message.isEmpty ? "" : ": \(job.message)")")
        }
        try state.audit(key: key, action: "fetch result", job: id)
        return outputs
    }

    /// The workers, then the federated clients (those offline too).
    private var peerSummaries: [WorkerSummary] {
        let workers = pool.workerList.map {
            WorkerSummary(
                name: $0.name, key: $0.peer.key ?? "", kernelIdentity: $0.kernelIdentity,
                state: $0.inFlight > 0 ? "busy" : "idle", tasksDone: $0.tasksDone,
                lastSeen: $0.lastSeen.timeIntervalSince1970, kernelMatches: $0.kernelMatches)
        }
        let clients = clients.clientList.map {
            WorkerSummary(
                name: $0.name, key: $0.key ?? "", kernelIdentity: $0.partition,
                state: $0.online ? "online" : "offline", tasksDone: $0.tasksDone,
                lastSeen: $0.lastSeen.timeIntervalSince1970, kernelMatches: true, role: "client",
                samples: $0.samples)
        }
        return workers + clients
    }

    /// How much of an offered blob is stored already (an upload goes on from there).
    private func stored(_ offer: BlobOffer) -> BlobStored {
        if state.blobs.contains(offer.sha256) {
            return BlobStored(sha256: offer.sha256, storedBytes: offer.totalBytes, complete: true)
        }
        return BlobStored(sha256: offer.sha256, storedBytes: state.blobs.partialLength(offer.sha256), complete: false)
    }

    private func store(_ chunk: BlobChunk, from key: String) throws -> BlobStored {
        do {
            let complete = try state.blobs.append(
                chunk.sha256, offset: chunk.offset, total: chunk.totalBytes, bytes: chunk.data)
            if complete {
                try state.recordBlob(chunk.sha256, kind: "upload", bytes: chunk.totalBytes)
                try state.audit(key: key, action: "upload", detail: ["sha256": chunk.sha256])
            }
            return BlobStored(
                sha256: chunk.sha256,
                storedBytes: complete ? chunk.totalBytes : state.blobs.partialLength(chunk.sha256), complete: complete)
        } catch BlobError.outOfOrder(_, let expected, _) {
            // Two users uploading the same bytes at once: each goes on from what the other stored.
            return BlobStored(sha256: chunk.sha256, storedBytes: expected, complete: false)
        } catch {
            throw ProtocolError(.badRequest, "\(error)")
        }
    }

    private func blobChunk(_ request: BlobRequest) throws -> BlobChunk {
        do {
            return try state.blobs.chunk(for: request)
        } catch {
            throw ProtocolError(.unknownBlob, "\(error)")
        }
    }

    func known(_ id: String) throws -> StoredJob {
        guard let job = try state.job(id) else {
            throw ProtocolError(.unknownJob, "no job '\(id)'; `lethe jobs` lists them")
        }
        return job
    }

    private func reply(_ envelope: Envelope<ControlReply>, to peer: Peer) { control.send(envelope, to: peer) }
}
