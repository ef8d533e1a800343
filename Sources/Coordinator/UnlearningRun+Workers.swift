import Foundation
import Jobs
import Transport
import Unlearning

extension UnlearningRun {
    /// Runs the plan on `pool`'s workers from a thread of its own; the job's dataset and original must be blobs.
    /// With a `snapshot` it continues that run; `persist` is offered a snapshot at every barrier.
    public static func onWorkers(
        _ pool: WorkerPool, job: String, shards: Int, datasetSHA256: String, labels: [Int], originalSHA256: String,
        architecture: String, progress: ProgressHandler?, snapshot: PlanSnapshot? = nil,
        persist: (@Sendable (Bool, () -> PlanSnapshot) -> Void)? = nil
    ) -> Execute {
        { plan, state in
            let executor = RemoteExecutor(
                pool: pool, job: job, shards: shards, datasetSHA256: datasetSHA256, labels: labels,
                originalSHA256: originalSHA256, architecture: architecture)
            try snapshot?.restore(into: state)
            executor.touchedSamples = Set(snapshot?.header.touched ?? [])
            let (earlierSeconds, resumed) = (snapshot?.header.seconds ?? 0, Date())
            let handoff = Handoff((plan, state, executor, PlanRunner(executor: executor, progress: progress)))
            let phases = try await DedicatedThread.run(name: "lethe.job.\(job)") {
                let (plan, state, executor, runner) = handoff.value
                return try runner.run(plan, state: state, resume: snapshot?.header.progress) { progress, phaseEnded in
                    persist?(phaseEnded) {
                        PlanSnapshot(
                            state, progress: progress, touched: executor.touchedSamples,
                            seconds: earlierSeconds + Date().timeIntervalSince(resumed))
                    }
                }
            }
            return (phases, handoff.value.2.touchedSamples, earlierSeconds)
        }
    }
}
