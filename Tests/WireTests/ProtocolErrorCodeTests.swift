import Testing
import Wire

/// Callers switch on error codes, never on message text: every code survives the wire.
struct ProtocolErrorCodeTests {
    @Test(arguments: [
        ProtocolError.Code.staleWeights, .notRegistered, .kernelMismatch, .badRequest, .unknownJob, .internalError,
    ])
    func codesRoundTrip(_ code: ProtocolError.Code) throws {
        let envelope = Envelope(CoordinatorToWorker.error(ProtocolError(code, "why")), requestID: 9)
        let decoded = try WireCodec.decode(WireCodec.encode(envelope).map(\.array), as: CoordinatorToWorker.self)
        guard case .error(let error) = decoded.message else {
            Issue.record("decoded \(decoded.message.kind)")
            return
        }
        #expect(error.code == code && error.message == "why" && decoded.requestID == 9)
    }

    @Test func everyJobStateRoundTripsAndKnowsWhetherItIsFinished() throws {
        for state in JobState.allCases {
            let status = JobStatus(
                id: "job-1", state: state, method: "scrub", forget: "classes 0", phases: [], message: "",
                submittedAt: 1, updatedAt: 2, submittedBy: "k", stepsDone: 0, stepsTotal: 0)
            let decoded = try WireCodec.decode(
                WireCodec.encode(Envelope(ControlReply.jobStatus(status))).map(\.array), as: ControlReply.self)
            #expect(decoded.message == .jobStatus(status))
        }
        #expect(JobState.allCases.filter(\.isFinished) == [.succeeded, .failed, .cancelled])
    }
}
