import Foundation

/// SSD's `alpha=auto`: dampens the original with each candidate α, gentlest first, and keeps the first that gets
/// a seeded check of the forget set below the forget target (`ForgetTarget`) while no retained class of a seeded
/// check of the retain set loses more than `maxRetainDrop` of its accuracy (the worst class, not the mean: a mean
/// can hold while one class loses 14 points). When no candidate does both, the run fails with the
/// measured curve rather than return a model that still knows the forget set or has lost the rest.
struct SSDAlphaSearch {
    let candidates: [Float]
    let forgetChecks: [Int]
    let retainChecks: [Int]
    let maxRetainDrop: Double
    let classCount: Int

    init(problem: UnlearningProblem, candidates: [Float], checkSamples: Int, maxRetainDrop: Double) {
        self.candidates = candidates
        forgetChecks = problem.seededSubset(
            of: problem.forgetSet.forget, count: checkSamples, stream: "ssd-forget-check")
        retainChecks = problem.seededSubset(
            of: problem.forgetSet.retain, count: checkSamples, stream: "ssd-retain-check")
        self.maxRetainDrop = maxRetainDrop
        classCount = problem.train.classCount
    }

    private static let original = "ssd.original/"
    private static let retainBefore = "ssd.checked-retain-before"
    private static func classBefore(_ label: Int) -> String { "ssd.checked-retain-before.\(label)" }
    private static let settledKey = "ssd.settled"

    /// The search's phases; `dampen(α)` dampens the student in place.
    func phases(dampen: (Float) -> LocalPhase) -> [any PlanPhase] {
        var phases: [any PlanPhase] = [
            LocalPhase(name: "keep the original") { $0.saveStudent(as: Self.original) },
            PredictionPhase(
                name: "retain accuracy before",
                request: { _ in PredictionRequest(subject: .student, indices: retainChecks) },
                keep: { predictions, state in
                    let before = Evaluator.summarize(predictions, classCount: classCount)
                    state.scalars[Self.retainBefore] = before.accuracy
                    for (label, accuracy) in before.perClassAccuracy.enumerated() {
                        if let accuracy { state.scalars[Self.classBefore(label)] = accuracy }
                    }
                }),
        ]
        for (index, alpha) in candidates.enumerated() {
            let dampening = dampen(alpha)
            phases.append(
                LocalPhase(name: dampening.name) { state in
                    guard !Self.settled(state) else { return }
                    try state.restoreStudent(from: Self.original)
                    try dampening.body(state)
                })
            phases.append(
                PredictionPhase(
                    name: "check (α \(SSD.format(alpha)))",
                    request: { state in
                        Self.settled(state)
                            ? nil : PredictionRequest(subject: .student, indices: forgetChecks + retainChecks)
                    },
                    keep: { predictions, state in try check(predictions, candidate: index, state) }))
        }
        phases.append(
            LocalPhase(name: "drop the original") { state in
                state.tensors = state.tensors.filter { !$0.key.hasPrefix(Self.original) }
            })
        return phases
    }

    private static func settled(_ state: PlanState) -> Bool { state.scalars[settledKey] != nil }

    private func check(_ predictions: Evaluator.Predictions, candidate: Int, _ state: PlanState) throws {
        let split = forgetChecks.count
        let forget = Evaluator.summarize(predictions.selecting(Array(0..<split)), classCount: classCount).accuracy
        let retain = Evaluator.summarize(
            predictions.selecting(Array(split..<predictions.labels.count)), classCount: classCount)
        let drop = state.scalars[Self.retainBefore]! - retain.accuracy
        let (worstClass, worstDrop) =
            retain.perClassAccuracy.enumerated().compactMap { label, accuracy in
                accuracy.flatMap { after in state.scalars[Self.classBefore(label)].map { (label, $0 - after) } }
            }.max { ($0.1, -$0.0) < ($1.1, -$1.0) } ?? (-1, drop)
        state.scalars["ssd.check.\(candidate).forget"] = forget
        state.scalars["ssd.check.\(candidate).retain-drop"] = drop
        state.scalars["ssd.check.\(candidate).worst-class"] = Double(worstClass)
        state.scalars["ssd.check.\(candidate).worst-class-drop"] = worstDrop
        let target = state.scalars[ForgetTarget.key]!
        if forget < target && worstDrop <= maxRetainDrop {
            state.scalars[Self.settledKey] = 1
            state.scalars[SSD.checkedForgetAccuracy] = forget
            state.scalars[SSD.checkedRetainDrop] = drop
            state.scalars[SSD.checkedWorstClass] = Double(worstClass)
            state.scalars[SSD.checkedWorstClassDrop] = worstDrop
        } else if candidate == candidates.count - 1 {
            let curve = candidates.indices.map { i in
                let forget = state.scalars["ssd.check.\(i).forget"]!
                let drop = state.scalars["ssd.check.\(i).retain-drop"]!
                let worst = Int(state.scalars["ssd.check.\(i).worst-class"]!)
                let worstDrop = state.scalars["ssd.check.\(i).worst-class-drop"]!
                return "α \(SSD.format(candidates[i])): forget \(percent(forget)), retain \(points(-drop)) points"
                    + " (class \(worst) \(points(-worstDrop)))"
            }
            throw ForgetTargetMissed(
                method: "ssd",
                message: "no α brought the checked forget samples below \(percent(target)) while every retained class "
                    + "lost at most \(String(format: "%.1f", 100 * maxRetainDrop)) points of its checked accuracy (\(curve.joined(separator: "; "))). "
                    + "Pass --param alpha=N to accept a trade-off, or use scrub, neggrad+ or finetune.")
        }
    }

    private func percent(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }
    /// Signed percentage points ("+0.0" rather than "-0.0").
    private func points(_ value: Double) -> String { String(format: "%+.1f", 100 * value + 0) }
}

/// A method could not reach its forget target within its limits; it returns no model.
public struct ForgetTargetMissed: Error, CustomStringConvertible {
    public let method: String
    public let message: String

    public var description: String { "\(method): \(message)" }
}
