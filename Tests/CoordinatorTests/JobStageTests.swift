import Coordinator
import Foundation
import Jobs
import Testing
import Transport
import Wire

/// `lethe status` is honest from the start: the stage the job is in and the plan's steps, known before the
/// first one runs, instead of 0/0 while the before-metrics run and a total that grows as phases start.
struct JobStageTests {
    @Test func statusShowsTheStageAndThePlansTotalFromTheStart() async throws {
        let fixture = try ClusterFixture()
        let state = try StateDirectory(fixture.directory.appendingPathComponent("state").path)
        let spec = JobSpec(
            method: "scrub", params: [:], architecture: "fmnist-mlp", weightsSHA256: fixture.originalSHA256,
            trainSHA256: fixture.datasetSHA256, testSHA256: fixture.datasetSHA256,
            scenarioSHA256: fixture.datasetSHA256, seed: 1, shards: 1, referenceSHA256: nil, weightsName: "w",
            forget: "classes 0")
        let id = try state.submit(spec, by: "ada")
        let (gates, gate) = AsyncStream.makeStream(of: Void.self)
        let controlHub = InMemoryHub()
        let coordinator = Coordinator(
            state: state, workers: InMemoryHub().server, control: controlHub.server, settings: fixture.poolSettings()
        ) { job, environment in
            var steps = gates.makeAsyncIterator()
            environment.stage(JobStage.verifyingBefore, 170)
            _ = await steps.next()
            environment.stage(JobStage.running, 170)
            environment.progress(
                PhaseStatus(name: "max epoch 1", completed: 14, total: 85, lastLoss: 1, stoppedEarly: true))
            environment.progress(PhaseStatus(name: "min epoch 1", completed: 3, total: 85, lastLoss: 0.5))
            _ = await steps.next()
            environment.stage(JobStage.verifyingAfter, 170)
            _ = await steps.next()
            throw ProtocolError(.internalError, "\(job.id): stops here in this test")
        }
        try coordinator.start()
        defer { coordinator.stop() }
        // Generous: the in-memory coordinator shares the cooperative pool with the heaviest tests.
        let client = ControlClient(transport: controlHub.connect(key: "ada"), timeoutSeconds: 300)
        defer { client.close() }
        func status() async throws -> JobStatus {
            guard case .jobStatus(let status) = try await client.request(.jobQuery(id: id)) else {
                throw ProtocolError(.internalError, "not a status")
            }
            return status
        }
        func waitFor(_ stage: String, phases: Int = 0) async throws -> JobStatus {
            for _ in 0..<3000 {
                let current = try await status()
                if current.stage == stage && current.phases.count >= phases { return current }
                try await Task.sleep(for: .milliseconds(10))
            }
            return try await status()
        }

        let before = try await waitFor(JobStage.verifyingBefore)
        #expect(before.stage == JobStage.verifyingBefore && before.stepsDone == 0 && before.stepsTotal == 170)
        gate.yield()
        let running = try await waitFor(JobStage.running, phases: 2)
        #expect(running.stepsTotal == 170)
        #expect(running.phases.first?.stoppedEarly == true && running.phases.last?.stoppedEarly == false)
        gate.yield()
        let after = try await waitFor(JobStage.verifyingAfter)
        #expect(after.stepsDone == 17 && after.stepsTotal == 170)
        gate.yield()
        for _ in 0..<3000 where try await status().state == .running { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await status().stage == "")
    }
}
