import Synchronization
import Testing
import Unlearning

@testable import LetheCommands

/// Without a terminal, progress is plain lines: one when a phase ends, and one per `interval` while a long phase
/// runs (a log of a run of hours shows it moving); none in between.
struct ProgressBarTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ text: String) { lines.withLock { $0.append(text) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func run(interval: Double) -> [String] {
        let lines = Lines()
        let bar = ProgressBar(isTerminal: false, interval: interval, write: lines.append)
        for step in 1...3 { bar.report(PhaseProgress(phase: "transfer", completed: step, total: 4, loss: 0.5)) }
        bar.report(PhaseProgress(phase: "transfer", completed: 4, total: 4, loss: 0.25))
        return lines.all
    }

    @Test func aLongPhaseLogsWhileItRunsAndWhenItEnds() {
        let every = run(interval: 0)
        #expect(every.count == 4)
        #expect(every[0].hasPrefix("transfer: 1/4 loss 0.5000 after ") && every[0].hasSuffix(", still running\n"))
        #expect(every[3].hasPrefix("transfer: 4/4 loss 0.2500 in "))
        let rarely = run(interval: 3600)
        #expect(rarely.count == 1 && rarely[0].hasPrefix("transfer: 4/4"))
    }
}
