import Coordinator
import Foundation
import Jobs
import LetheTesting
import Testing
import Transport
import Wire

struct LoadTests {
    /// 20 jobs queued at once, three running at a time, while workers join and leave: every job finishes, none
    /// is lost, and each has the bits of the local run.
    @Test(.timeLimit(.minutes(10)))
    func twentyQueuedJobsFinishWhileWorkersComeAndGo() async throws {
        let fixture = try ClusterFixture()
        let local = try fixture.localHash(shards: 2)
        let state = try StateDirectory(fixture.directory.appendingPathComponent("state").path)
        let datasetSHA256 = try state.blobs.put(DatasetBlob.encode(fixture.train))
        let originalSHA256 = try state.blobs.put(
            contentsOf: fixture.directory.appendingPathComponent("original.safetensors"))
        let workerHub = InMemoryHub()
        let controlHub = InMemoryHub()
        let running = RunningCount()
        let coordinator = Coordinator(
            state: state, workers: workerHub.server, control: controlHub.server, settings: fixture.poolSettings(),
            maxConcurrentJobs: 3
        ) { job, environment in
            running.enter()
            defer { running.leave() }
            let hash = try await DedicatedThread.run(name: job.id) {
                try fixture.run(
                    RemoteExecutor(
                        pool: environment.pool, job: job.id, shards: 2, datasetSHA256: datasetSHA256,
                        labels: fixture.train.labels, originalSHA256: originalSHA256, architecture: "fmnist-mlp"))
            }
            let sha256 = try environment.blobs.put(Data(hash.utf8))
            return JobOutputs(id: job.id, weightsSHA256: sha256, reportSHA256: sha256, htmlSHA256: sha256)
        }
        try coordinator.start()
        defer { coordinator.stop() }
        let client = ControlClient(transport: controlHub.connect(key: "tester"), timeoutSeconds: 300)
        defer { client.close() }
        let spec = JobSpec(
            method: "scrub", params: [:], architecture: "fmnist-mlp", weightsSHA256: originalSHA256,
            trainSHA256: datasetSHA256, testSHA256: datasetSHA256, scenarioSHA256: datasetSHA256, seed: 3, shards: 2,
            referenceSHA256: nil, weightsName: "original", forget: "classes 0")
        var ids: [String] = []
        for _ in 0..<20 {
            guard case .jobAccepted(let id) = try await client.request(.jobSubmit(spec)) else {
                Issue.record("no job id")
                return
            }
            ids.append(id)
        }

        // Workers come and go: one joins every 300 ms, and every other join the oldest leaves.
        var nodes: [(transport: InMemoryTransport, task: Task<Void, Never>)] = []
        var joined = 0
        func finished() async throws -> Int {
            guard case .jobList(let jobs) = try await client.request(.jobList) else { return 0 }
            return jobs.filter(\.isFinished).count
        }
        while try await finished() < ids.count {
            let transport = workerHub.connect(key: "worker-\(joined)")
            let node = try fixture.worker(transport, name: "w\(joined)")
            nodes.append((transport, Task { await node.run() }))
            joined += 1
            if joined % 2 == 0 && nodes.count > 1 {
                let leaving = nodes.removeFirst()
                leaving.transport.close()
                leaving.task.cancel()
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        defer { nodes.forEach { $0.task.cancel() } }
        for id in ids {
            guard case .jobStatus(let status) = try await client.request(.jobQuery(id: id)) else { continue }
            #expect(status.state == .succeeded, "\(id): \(status.message)")
            guard case .jobResult(let outputs) = try await client.request(.jobResultRequest(id: id)) else { continue }
            #expect(String(decoding: try await client.download(outputs.weightsSHA256), as: UTF8.self) == local)
        }
        #expect(joined > 2)
        #expect(running.peak == 3)
        let audit = try state.auditEvents()
        #expect(audit.filter { $0.action == "submit" && $0.key == "tester" }.count == 20)
    }
}

/// How many jobs run at once, and the most there ever were.
final class RunningCount: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0
    private var most = 0

    func enter() {
        lock.withLock {
            now += 1
            most = max(most, now)
        }
    }

    func leave() { lock.withLock { now -= 1 } }
    var peak: Int { lock.withLock { most } }
}
