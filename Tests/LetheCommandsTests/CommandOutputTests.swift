import Foundation
import Jobs
import LetheTesting
import Testing
import Wire

@testable import LetheCommands

/// What the commands print says everything: no value is cut to fit a column.
struct CommandOutputTests {
    @Test func methodsListsEveryDefaultInFull() async throws {
        let methods = try await LetheProcess.run(["methods"])
        #expect(methods.status == 0)
        #expect(methods.standardOutput.contains("alpha-candidates=100:50:30:20:15:10:8:7:6:5:4:3 "))
    }

    @Test func tableCellsAreNeverCut() {
        #expect(tableRow(["job-1", "running", "x"], widths: [8, 9]) == "job-1   running  x")
        let long = "a-worker-with-a-very-long-name"
        #expect(tableRow([long, "idle"], widths: [21]) == long + " idle")
        #expect(padded("    key=value", to: 8) == "    key=value ")
    }

    @Test func aTorchSaveFileIsNamedAndExitsTwo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("model.pt")
        try Data([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 100)).write(to: URL(fileURLWithPath: path))
        let eval = try await LetheProcess.run([
            "eval", "--model", "fmnist-mlp", "--weights", path, "--data", directory.path("none"),
        ])
        #expect(eval.status == 2)
        #expect(eval.standardError.contains("this is a torch.save file (zip archive)"), "\(eval.standardError)")
        #expect(eval.standardError.contains("save_file(model.state_dict(), path)"))
    }

    /// A bad `--param` is bad input wherever it is given: exit 2 and the same message from unlearn and submit.
    @Test func aBadParameterExitsTwoFromUnlearnAndSubmit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let request = ["--method", "scrub", "--param", "lr=abc", "--weights", "w.safetensors", "--forget-classes", "0"]
        let unlearn = try await LetheProcess.run(
            ["unlearn"] + request + ["--model", "fmnist-mlp", "--out", directory.path("o.safetensors")])
        let submit = try await LetheProcess.run(["submit"] + request + ["--insecure", "--timeout", "1"])
        #expect(unlearn.status == 2 && submit.status == 2)
        #expect(unlearn.standardError.contains("parameter lr=abc is not valid"), "\(unlearn.standardError)")
        // The same error line (the usage line after it names each command).
        #expect(submit.standardError.split(separator: "\n").first == unlearn.standardError.split(separator: "\n").first)
    }

    /// `lethe status` names the stage and says where a phase stopped early.
    @Test func statusSaysWhatTheJobIsDoingAndWherePhasesStopped() {
        let status = JobStatus(
            id: "job-1", state: .running, method: "scrub", forget: "classes 0",
            phases: [
                PhaseStatus(name: "max epoch 1", completed: 14, total: 85, lastLoss: nil, stoppedEarly: true),
                PhaseStatus(name: "min epoch 1", completed: 3, total: 85, lastLoss: nil),
            ], message: "", submittedAt: 0, updatedAt: 0, submittedBy: "k", stepsDone: 17, stepsTotal: 170,
            stage: JobStage.running)
        let text = status.describe()
        #expect(text.hasPrefix("job-1 running: scrub forgetting classes 0, 17/170 steps"), "\(text)")
        #expect(text.contains("max epoch 1: 14/85, stopped early") && !text.contains("3/85, stopped"))
        var verifying = status
        (verifying.stage, verifying.phases, verifying.stepsDone) = (JobStage.verifyingBefore, [], 0)
        #expect(verifying.describe() == "job-1 running (verifying before): scrub forgetting classes 0, 0/170 steps")
    }
}
