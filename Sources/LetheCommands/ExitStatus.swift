import ArgumentParser
import Checkpoint
import Coordinator
import Data
import Foundation
import Jobs
import NN
import Transport
import Unlearning
import Wire

/// DESIGN §8 exit codes: 0 ok, 1 failure, 2 bad usage or bad input (unreadable, malformed or mismatched
/// files, unknown names). Errors go to standard error as one message saying what was wrong.
enum ExitStatus {
    static func code(for error: Error) -> Int32 {
        switch error {
        case is SafetensorsError, is ModelCheckpoint.LoadError, is DatasetError, is ModelSpecError, is ValidationError,
            is ForgetSelectionError, is MembershipInferenceError, is MethodParameterError, is MethodNotApplicable,
            is ScenarioError, is ReferenceSetError, is PreprocessingError, is GeneratorShapeError:
            return 2
        case let refusal as ProtocolError:
            return [.badRequest, .unknownJob, .unknownBlob, .badShape, .badMessage].contains(refusal.code) ? 2 : 1
        case is KeyError:
            return 2
        case let certificate as CertificateError:
            if case .invalid = certificate { return 1 }
            return 2
        case is ControlError:
            return 1  // the coordinator cannot be reached, did not answer, or answered nonsense
        default:
            let code = LetheCommand.exitCode(for: error)
            return code == .validationFailure ? 2 : code.rawValue
        }
    }
}

extension LetheCommand {
    public static func launch() async {
        do {
            var command = try parseAsRoot(
                FederatedSubmitCommand.route(try JobFile.expand(Array(CommandLine.arguments.dropFirst()))))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = ExitStatus.code(for: error)
            if code == 0 { exit(withError: error) }  // --help, --version
            let message = plainFileErrorMessage(error) ?? fullMessage(for: error)
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(code)
        }
    }
}
