import LetheProtoC
import Unlearning

/// The CLI ⇄ coordinator messages to protobuf-c and back.
enum ControlCoding {
    /// Sets the envelope's body to a control body.
    static func encode(_ body: ControlBody, into root: UnsafeMutablePointer<Lethe__Envelope>, _ arena: CArena) {
        switch body {
        case .jobSubmit(let spec):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_SUBMIT
            root.pointee.job_submit = arena.new {
                lethe__job_submit__init($0)
                $0.pointee.spec = encode(spec, arena)
            }
        case .jobAccepted(let id):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_ACCEPTED
            root.pointee.job_accepted = jobID(id, lethe__job_accepted__init, arena)
        case .jobQuery(let id):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_QUERY
            root.pointee.job_query = jobID(id, lethe__job_query__init, arena)
        case .jobStatus(let status):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_STATUS
            root.pointee.job_status = encode(status, arena)
        case .jobList(let jobs):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_LIST
            root.pointee.job_list = arena.new {
                lethe__job_list__init($0)
                let items = jobs.map { encode($0, arena) as UnsafeMutablePointer<Lethe__JobStatus>? }
                $0.pointee.n_jobs = items.count
                $0.pointee.jobs = arena.array(items)
            }
        case .jobCancel(let id):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_CANCEL
            root.pointee.job_cancel = jobID(id, lethe__job_cancel__init, arena)
        case .jobResultRequest(let id):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_RESULT_REQUEST
            root.pointee.job_result_request = jobID(id, lethe__job_result_request__init, arena)
        case .jobResult(let outputs):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_JOB_RESULT
            root.pointee.job_result = arena.new {
                lethe__job_result__init($0)
                $0.pointee.id = arena.string(outputs.id)
                $0.pointee.weights_sha256 = arena.string(outputs.weightsSHA256)
                $0.pointee.report_sha256 = arena.string(outputs.reportSHA256)
                $0.pointee.html_sha256 = arena.string(outputs.htmlSHA256)
                $0.pointee.ledger_sha256 = arena.string(outputs.ledgerSHA256 ?? "")
                $0.pointee.certificate_sha256 = arena.string(outputs.certificateSHA256 ?? "")
            }
        case .workerQuery:
            root.pointee.body_case = LETHE__ENVELOPE__BODY_WORKER_QUERY
            root.pointee.worker_query = arena.new { lethe__worker_query__init($0) }
        case .workerList(let workers):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_WORKER_LIST
            root.pointee.worker_list = arena.new {
                lethe__worker_list__init($0)
                let items = workers.map { worker -> UnsafeMutablePointer<Lethe__WorkerInfo>? in
                    arena.new {
                        lethe__worker_info__init($0)
                        $0.pointee.name = arena.string(worker.name)
                        $0.pointee.key = arena.string(worker.key)
                        $0.pointee.kernel_identity = arena.string(worker.kernelIdentity)
                        $0.pointee.state = arena.string(worker.state)
                        $0.pointee.tasks_done = UInt32(clamping: worker.tasksDone)
                        $0.pointee.last_seen = worker.lastSeen
                        $0.pointee.kernel_matches = worker.kernelMatches ? 1 : 0
                        $0.pointee.role = arena.string(worker.role)
                        $0.pointee.samples = UInt32(clamping: worker.samples)
                    }
                }
                $0.pointee.n_workers = items.count
                $0.pointee.workers = arena.array(items)
            }
        case .blobOffer(let offer):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_BLOB_OFFER
            root.pointee.blob_offer = arena.new {
                lethe__blob_offer__init($0)
                $0.pointee.sha256 = arena.string(offer.sha256)
                $0.pointee.total_bytes = UInt64(clamping: offer.totalBytes)
                $0.pointee.kind = arena.string(offer.kind)
            }
        case .blobUpload(let chunk):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_BLOB_UPLOAD
            root.pointee.blob_upload = chunk.encode(lethe__blob_upload__init, arena)
        case .blobStored(let stored):
            root.pointee.body_case = LETHE__ENVELOPE__BODY_BLOB_STORED
            root.pointee.blob_stored = arena.new {
                lethe__blob_stored__init($0)
                $0.pointee.sha256 = arena.string(stored.sha256)
                $0.pointee.stored_bytes = UInt64(clamping: stored.storedBytes)
                $0.pointee.complete = stored.complete ? 1 : 0
            }
        }
    }

    /// A new message of one of the kinds that carry just a job id, set up by `initialize`.
    private static func jobID<Message: JobIDMessage>(
        _ id: String, _ initialize: (UnsafeMutablePointer<Message>) -> Void, _ arena: CArena
    ) -> UnsafeMutablePointer<Message> {
        arena.new {
            initialize($0)
            $0.pointee.id = arena.string(id)
        }
    }

    static func encode(_ spec: JobSpec, _ arena: CArena) -> UnsafeMutablePointer<Lethe__JobSpec> {
        arena.new {
            lethe__job_spec__init($0)
            $0.pointee.method = arena.string(spec.method)
            let params = spec.params.sorted { $0.key < $1.key }.map { key, value in
                arena.new {
                    lethe__job_spec__params_entry__init($0)
                    $0.pointee.key = arena.string(key)
                    $0.pointee.value = arena.string(value)
                } as UnsafeMutablePointer<Lethe__JobSpec__ParamsEntry>?
            }
            $0.pointee.n_params = params.count
            $0.pointee.params = arena.array(params)
            $0.pointee.architecture = arena.string(spec.architecture)
            $0.pointee.weights_sha256 = arena.string(spec.weightsSHA256)
            $0.pointee.train_sha256 = arena.string(spec.trainSHA256)
            $0.pointee.test_sha256 = arena.string(spec.testSHA256)
            $0.pointee.scenario_sha256 = arena.string(spec.scenarioSHA256)
            $0.pointee.seed = spec.seed
            $0.pointee.shards = UInt32(clamping: spec.shards)
            $0.pointee.reference_sha256 = arena.string(spec.referenceSHA256 ?? "")
            $0.pointee.weights_name = arena.string(spec.weightsName)
            $0.pointee.forget = arena.string(spec.forget)
            $0.pointee.kind = arena.string(spec.kind ?? "")
            $0.pointee.source_job = arena.string(spec.sourceJob ?? "")
            $0.pointee.client = arena.string(spec.client ?? "")
            $0.pointee.audit_sha256 = arena.string(spec.auditSHA256 ?? "")
            $0.pointee.source_train_sha256 = arena.string(spec.sourceTrainSHA256 ?? "")
            $0.pointee.source_test_sha256 = arena.string(spec.sourceTestSHA256 ?? "")
        }
    }

    static func encode(_ status: JobStatus, _ arena: CArena) -> UnsafeMutablePointer<Lethe__JobStatus> {
        arena.new {
            lethe__job_status__init($0)
            $0.pointee.id = arena.string(status.id)
            $0.pointee.state = arena.string(status.state.rawValue)
            $0.pointee.method = arena.string(status.method)
            $0.pointee.forget = arena.string(status.forget)
            let phases = status.phases.map { phase -> UnsafeMutablePointer<Lethe__PhaseProgress>? in
                arena.new {
                    lethe__phase_progress__init($0)
                    $0.pointee.name = arena.string(phase.name)
                    $0.pointee.completed = UInt32(clamping: phase.completed)
                    $0.pointee.total = UInt32(clamping: phase.total)
                    $0.pointee.last_loss = phase.lastLoss ?? .nan
                    $0.pointee.stopped_early = phase.stoppedEarly ? 1 : 0
                }
            }
            $0.pointee.n_phases = phases.count
            $0.pointee.phases = arena.array(phases)
            $0.pointee.message = arena.string(status.message)
            $0.pointee.submitted_at = status.submittedAt
            $0.pointee.updated_at = status.updatedAt
            $0.pointee.submitted_by = arena.string(status.submittedBy)
            $0.pointee.steps_done = UInt32(clamping: status.stepsDone)
            $0.pointee.steps_total = UInt32(clamping: status.stepsTotal)
            $0.pointee.stage = arena.string(status.stage)
        }
    }

    // MARK: decoding

    /// The control body in the envelope, nil for any other body.
    static func decode(_ root: Lethe__Envelope) throws(WireError) -> ControlBody? {
        switch root.body_case {
        case LETHE__ENVELOPE__BODY_JOB_SUBMIT:
            let submit = try EnvelopeBody.present(root.job_submit, "job submit")
            return .jobSubmit(try decode(try EnvelopeBody.present(submit.spec, "job spec")))
        case LETHE__ENVELOPE__BODY_JOB_ACCEPTED:
            return .jobAccepted(id: CRead.string(try EnvelopeBody.present(root.job_accepted, "job accepted").id))
        case LETHE__ENVELOPE__BODY_JOB_QUERY:
            return .jobQuery(id: CRead.string(try EnvelopeBody.present(root.job_query, "job query").id))
        case LETHE__ENVELOPE__BODY_JOB_STATUS:
            return .jobStatus(try decode(try EnvelopeBody.present(root.job_status, "job status")))
        case LETHE__ENVELOPE__BODY_JOB_LIST:
            let list = try EnvelopeBody.present(root.job_list, "job list")
            return .jobList(try CRead.messages(list.jobs, list.n_jobs).map(decode))
        case LETHE__ENVELOPE__BODY_JOB_CANCEL:
            return .jobCancel(id: CRead.string(try EnvelopeBody.present(root.job_cancel, "job cancel").id))
        case LETHE__ENVELOPE__BODY_JOB_RESULT_REQUEST:
            return .jobResultRequest(
                id: CRead.string(try EnvelopeBody.present(root.job_result_request, "job result request").id))
        case LETHE__ENVELOPE__BODY_JOB_RESULT:
            let result = try EnvelopeBody.present(root.job_result, "job result")
            return .jobResult(
                JobOutputs(
                    id: CRead.string(result.id), weightsSHA256: try EnvelopeBody.sha256(result.weights_sha256),
                    reportSHA256: try EnvelopeBody.sha256(result.report_sha256),
                    htmlSHA256: try EnvelopeBody.sha256(result.html_sha256),
                    ledgerSHA256: try EnvelopeBody.optionalSHA256(result.ledger_sha256),
                    certificateSHA256: try EnvelopeBody.optionalSHA256(result.certificate_sha256)))
        case LETHE__ENVELOPE__BODY_WORKER_QUERY:
            return .workerQuery
        case LETHE__ENVELOPE__BODY_WORKER_LIST:
            let list = try EnvelopeBody.present(root.worker_list, "worker list")
            return .workerList(
                CRead.messages(list.workers, list.n_workers).map {
                    WorkerSummary(
                        name: CRead.string($0.name), key: CRead.string($0.key),
                        kernelIdentity: CRead.string($0.kernel_identity), state: CRead.string($0.state),
                        tasksDone: Int($0.tasks_done), lastSeen: $0.last_seen, kernelMatches: $0.kernel_matches != 0,
                        role: CRead.string($0.role), samples: Int($0.samples))
                })
        case LETHE__ENVELOPE__BODY_BLOB_OFFER:
            let offer = try EnvelopeBody.present(root.blob_offer, "blob offer")
            return .blobOffer(
                BlobOffer(
                    sha256: try EnvelopeBody.sha256(offer.sha256),
                    totalBytes: try EnvelopeBody.count(offer.total_bytes, "total_bytes"), kind: CRead.string(offer.kind)
                ))
        case LETHE__ENVELOPE__BODY_BLOB_UPLOAD:
            return .blobUpload(try BlobChunk(decoding: try EnvelopeBody.present(root.blob_upload, "blob upload")))
        case LETHE__ENVELOPE__BODY_BLOB_STORED:
            let stored = try EnvelopeBody.present(root.blob_stored, "blob stored")
            return .blobStored(
                BlobStored(
                    sha256: try EnvelopeBody.sha256(stored.sha256),
                    storedBytes: try EnvelopeBody.count(stored.stored_bytes, "stored_bytes"),
                    complete: stored.complete != 0))
        default:
            return nil
        }
    }

    static func decode(_ spec: Lethe__JobSpec) throws(WireError) -> JobSpec {
        var params: [String: String] = [:]
        for entry in CRead.messages(spec.params, spec.n_params) {
            params[CRead.string(entry.key)] = CRead.string(entry.value)
        }
        let method = CRead.string(spec.method)
        guard !method.isEmpty else { throw .invalidField("a job needs a method") }
        guard spec.shards >= 1, spec.shards <= UnlearningLimits.shards else {
            throw .invalidField("shards \(spec.shards) must be between 1 and \(UnlearningLimits.shards)")
        }
        // Which blobs a job needs depends on its kind; the coordinator checks that they are there.
        var decoded = JobSpec(
            method: method, params: params, architecture: CRead.string(spec.architecture),
            weightsSHA256: try EnvelopeBody.optionalSHA256(spec.weights_sha256) ?? "",
            trainSHA256: try EnvelopeBody.optionalSHA256(spec.train_sha256) ?? "",
            testSHA256: try EnvelopeBody.optionalSHA256(spec.test_sha256) ?? "",
            scenarioSHA256: try EnvelopeBody.optionalSHA256(spec.scenario_sha256) ?? "", seed: spec.seed,
            shards: Int(spec.shards), referenceSHA256: try EnvelopeBody.optionalSHA256(spec.reference_sha256),
            weightsName: CRead.string(spec.weights_name), forget: CRead.string(spec.forget))
        decoded.kind = nonEmpty(CRead.string(spec.kind))
        decoded.sourceJob = nonEmpty(CRead.string(spec.source_job))
        decoded.client = nonEmpty(CRead.string(spec.client))
        decoded.auditSHA256 = try EnvelopeBody.optionalSHA256(spec.audit_sha256)
        decoded.sourceTrainSHA256 = try EnvelopeBody.optionalSHA256(spec.source_train_sha256)
        decoded.sourceTestSHA256 = try EnvelopeBody.optionalSHA256(spec.source_test_sha256)
        return decoded
    }

    private static func nonEmpty(_ value: String) -> String? { value.isEmpty ? nil : value }

    static func decode(_ status: Lethe__JobStatus) throws(WireError) -> JobStatus {
        let state = CRead.string(status.state)
        guard let known = JobState(rawValue: state) else {
            throw .invalidField("job state '\(state.prefix(32))' is not one of \(JobState.allCases.map(\.rawValue))")
        }
        return JobStatus(
            id: CRead.string(status.id), state: known, method: CRead.string(status.method),
            forget: CRead.string(status.forget),
            phases: CRead.messages(status.phases, status.n_phases).map {
                PhaseStatus(
                    name: CRead.string($0.name), completed: Int($0.completed), total: Int($0.total),
                    lastLoss: $0.last_loss.isNaN ? nil : $0.last_loss, stoppedEarly: $0.stopped_early != 0)
            }, message: CRead.string(status.message), submittedAt: status.submitted_at, updatedAt: status.updated_at,
            submittedBy: CRead.string(status.submitted_by), stepsDone: Int(status.steps_done),
            stepsTotal: Int(status.steps_total), stage: CRead.string(status.stage))
    }
}

/// The control messages whose one field is a job id.
protocol JobIDMessage {
    var id: UnsafeMutablePointer<CChar>! { get set }
}

extension Lethe__JobAccepted: JobIDMessage {}
extension Lethe__JobQuery: JobIDMessage {}
extension Lethe__JobCancel: JobIDMessage {}
extension Lethe__JobResultRequest: JobIDMessage {}
