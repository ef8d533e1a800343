import Data
import NN

/// The accuracy on the forget set at which ascent-style phases stop (SCRUB's max-epochs, NegGrad): for
/// classes a small fixed value (a model that never saw them scores 0), for samples the original's accuracy
/// on held-out validation samples like them (what a model that never saw them scores; with references, on
/// stand-ins as hard as each forget sample, `DifficultyMatch`). For the confusion
/// scenario's swapped labels, that is how often the original gives a validation sample of A or B the other
/// class's label. `stop-accuracy` overrides it.
public enum ForgetTarget {
    public static let key = "forget-target-accuracy"
    public static let classDefault = 0.05

    /// Phases that put the target into the plan state (a validation pass when it has to be measured).
    static func phases(for problem: UnlearningProblem, override: Float) -> [any PlanPhase] {
        if override >= 0 || problem.forgetSet.forgottenClasses != nil {
            let target = override >= 0 ? Double(override) : classDefault
            return [LocalPhase(name: "forget target") { $0.scalars[key] = target }]
        }
        let validation = problem.forgetStandIns
        guard !validation.isEmpty else { return [] }  // no validation split: no early stop
        return [
            PredictionPhase(
                name: "forget target",
                request: { _ in PredictionRequest(subject: .frozen(.original), indices: validation) },
                keep: { predictions, state in state.scalars[key] = heldOutAccuracy(predictions, problem) })
        ]
    }

    /// The accuracy of predictions for held-out samples like the forget set (`forgetLikeValidation`) in the forget
    /// set's terms: against their labels, or in the confusion scenario how often they get the other class's label.
    static func heldOutAccuracy(_ predictions: Evaluator.Predictions, _ problem: UnlearningProblem) -> Double {
        guard case .confusion(let classes, _) = problem.forgetSet.selection else {
            return Evaluator.summarize(predictions, classCount: problem.train.classCount).accuracy
        }
        let swapped = [classes[0]: classes[1], classes[1]: classes[0]]
        let given = zip(predictions.labels, predictions.predicted).filter { swapped[$0] == $1 }.count
        return predictions.labels.isEmpty ? 0 : Double(given) / Double(predictions.labels.count)
    }

    /// Whether part `part` of a step's batch scored below the target.
    static func reached(_ outcome: StepOutcome, part: Int = 0, _ state: PlanState) -> Bool {
        guard let target = state.scalars[key] else { return false }
        return outcome.accuracy(ofPart: part) < target
    }
}

extension ForgetTarget {
    /// For judging a finished sample or confusion scenario (`Acceptance`): the original's accuracy, in the forget
    /// set's terms, on the held-out samples standing for the forget set (`forgetStandIns`: from the validation
    /// split or a test-half holdout; `source` names which). Nil for class scenarios (their target is fixed) or without
    /// such samples: a target is never measured on data the run reports.
    public static func heldOut(_ original: Model, problem: UnlearningProblem, source: String)
        -> (accuracy: Double, samples: Int, source: String)?
    {
        guard problem.forgetSet.forgottenClasses == nil else { return nil }
        let validation = problem.forgetStandIns
        guard !validation.isEmpty else { return nil }
        let predictions = Evaluator.predict(original, on: problem.train, indices: validation)
        return (heldOutAccuracy(predictions, problem), validation.count, source)
    }
}
