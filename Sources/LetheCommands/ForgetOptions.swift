import ArgumentParser
import Unlearning

/// The forget selection flags shared by every command that forgets or verifies forgetting.
struct ForgetOptions: ParsableArguments {
    @Option(help: "Forget every training sample of these classes, e.g. 0 or 0,6.")
    var forgetClasses: String?
    @Option(help: "Forget a stratified random fraction of the training set (with --seed), e.g. 0.1.")
    var forgetFraction: Double?
    @Option(help: "Forget the training indices listed in this file, one per line.")
    var forgetIndices: String?

    func validate() throws {
        let given = [forgetClasses != nil, forgetFraction != nil, forgetIndices != nil].filter { $0 }.count
        guard given == 1 else {
            throw ValidationError("give exactly one of --forget-classes, --forget-fraction and --forget-indices")
        }
        if let forgetFraction, !(forgetFraction > 0 && forgetFraction < 1) {
            throw ValidationError("--forget-fraction must be between 0 and 1 (got \(forgetFraction))")
        }
    }

    /// The selection, reading the index file if one was given.
    func selection(seed: UInt64, trainingSamples: Int) throws -> ForgetSelection {
        if let forgetClasses { return .classes(try parseClassList(forgetClasses, option: "--forget-classes")) }
        if let forgetFraction { return .fraction(forgetFraction, seed: seed) }
        return .indices(try readIndexFile(forgetIndices!, count: trainingSamples))
    }
}
