import Checkpoint
import Foundation
import NN
import Tensor
import Unlearning

/// What every run (classification or regression) does and reports the same way: the method's plan on a copy of
/// the original, the unlearned checkpoint with its provenance, and which samples the method read.
extension UnlearningRun {
    /// Runs `plan` on a copy of `original`, recording its time as the "method" phase; `seconds` adds the time
    /// an interrupted run spent before it resumed.
    func runPlan(
        _ plan: Plan, from original: Model, originalPredictions: ModelPredictions? = nil, execute: Execute,
        timings: inout RunTimings
    ) async throws -> (state: PlanState, phases: [PhaseLog], touched: Set<Int>, seconds: Double) {
        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        state.originalPredictions = originalPredictions
        let start = Date()
        let (phases, touched, earlierSeconds) = try await execute(plan, state)
        let elapsed = Date().timeIntervalSince(start)
        timings.record("method", seconds: elapsed)
        return (state, phases, touched, earlierSeconds + elapsed)
    }

    /// Saves `student` beside `out` with the input's `lethe.*` metadata plus this run's provenance, and moves it
    /// into place only when `keep` (a run that missed its target leaves no model behind). Returns its sha256.
    func writeOutput(_ student: Model, to out: URL, keep: Bool) throws -> String {
        var metadata = scenario.metadata.filter { $0.key.hasPrefix("lethe.") }
        metadata["lethe.unlearning"] = String(
            decoding: try JSONEncoder.sorted.encode(
                [
                    "method": method.name, "forget": scenario.forgetSet.selection.description,
                    "source_sha256": inputSha256,
                ]),
            as: UTF8.self)
        metadata["lethe.blas"] = BLAS.kernelIdentity
        let written = out.deletingLastPathComponent().appendingPathComponent(".\(out.lastPathComponent).\(UUID())")
        defer { try? FileManager.default.removeItem(at: written) }
        try ModelCheckpoint.save(student, to: written, metadata: metadata)
        let sha256 = try sha256Hex(contentsOf: written)
        if keep, rename(written.path, out.path) != 0 {
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [
                    NSFilePathErrorKey: out.path, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: errno)!),
                ])
        }
        return sha256
    }

    /// How many forget, retain and validation samples the method read.
    func dataTouched(_ touched: Set<Int>) -> DataTouched {
        let forget = scenario.forgetSet
        return DataTouched(
            forget: forget.forget.filter(touched.contains).count,
            retain: forget.retain.filter(touched.contains).count,
            validation: Set(scenario.validation).filter(touched.contains).count)
    }

    /// The forget set as reports describe it.
    func forgetDescription(classes: [Int]?) -> ForgetDescription {
        let forget = scenario.forgetSet
        return ForgetDescription(
            selection: forget.selection.description, scenario: forget.selection.scenario,
            forgetSamples: forget.forget.count, retainSamples: forget.retain.count,
            validationSamples: Set(scenario.validation).count, classes: classes)
    }
}
