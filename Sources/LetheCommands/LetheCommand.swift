import ArgumentParser
import Jobs
import NN
import Tensor
import ZeroMQ

public struct LetheCommand: AsyncParsableCommand {
    public static let version = LetheVersion.current

    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "lethe",
            abstract: "Machine unlearning: train, unlearn and verify neural networks.",
            version:
                "lethe \(version) (kernels \(BLAS.kernelIdentity), C kernels \(KernelClone.current), libzmq \(ZeroMQLibrary.version))",
            subcommands: [
                TrainCommand.self, EvalCommand.self, UnlearnCommand.self, MetricsCommand.self, MethodsCommand.self,
                SummarizeCommand.self, CoordinatorCommand.self, WorkerCommand.self, SubmitCommand.self,
                StatusCommand.self, WatchCommand.self, ResultCommand.self, CancelCommand.self, JobsCommand.self,
                WorkersCommand.self, KeysCommand.self, BenchCommand.self, ClientCommand.self, AuditCommand.self,
                FederatedSubmitCommand.self, ForgetClientCommand.self, CertificateCommand.self, AuditLogCommand.self,
                CacheCommand.self,
            ]
        )
    }

    public init() {}
}
