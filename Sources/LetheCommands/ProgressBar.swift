import Foundation
import Jobs
import Synchronization
import Unlearning

/// Shows progress on standard error: a redrawn bar on a terminal; otherwise (a log file, a pipe) a plain line per
/// phase, and for a long phase a line every `interval` while it runs, so a run of hours shows it is moving.
final class ProgressBar: Sendable {
    private let isTerminal: Bool
    private let interval: TimeInterval
    private let write: @Sendable (String) -> Void
    private let drawn = Mutex(Drawn())

    init(
        isTerminal: Bool = isatty(STDERR_FILENO) == 1, interval: TimeInterval = 60,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.isTerminal = isTerminal
        self.interval = interval
        self.write = write
    }

    /// What was last drawn, and when its phase began.
    private struct Drawn {
        var lastDraw = Date.distantPast
        var currentPhase = ""
        var phaseStart = Date()

        func elapsed(_ now: Date) -> String { String(format: "%.1fs", now.timeIntervalSince(phaseStart)) }
    }

    static let quiet: ProgressHandler = { _ in }

    var handler: ProgressHandler { { [self] in self.report($0) } }

    func report(_ progress: PhaseProgress) {
        drawn.withLock { drawn in
            let now = Date()
            if progress.phase != drawn.currentPhase {
                finishLine(&drawn)
                drawn.currentPhase = progress.phase
                drawn.phaseStart = now
                drawn.lastDraw = now
            }
            let done = progress.isFinal
            if isTerminal {
                guard done || now.timeIntervalSince(drawn.lastDraw) > 0.1 else { return }
                drawn.lastDraw = now
                let width = 30
                let filled = progress.total == 0 ? width : width * progress.completed / progress.total
                let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
                let loss = progress.loss.map { String(format: "  loss %.4f", $0) } ?? ""
                let line = "\(progress.phase)  \(bar) \(progress.count)\(loss)  \(drawn.elapsed(now))"
                write("\r\u{1B}[2K" + line)
                if done { finishLine(&drawn) }
            } else if done {
                let loss = progress.loss.map { String(format: " loss %.4f", $0) } ?? ""
                write("\(progress.phase): \(progress.count)\(loss) in \(drawn.elapsed(now))\n")
            } else if now.timeIntervalSince(drawn.lastDraw) >= interval {
                drawn.lastDraw = now
                let loss = progress.loss.map { String(format: " loss %.4f", $0) } ?? ""
                write("\(progress.phase): \(progress.count)\(loss) after \(drawn.elapsed(now)), still running\n")
            }
        }
    }

    private func finishLine(_ drawn: inout Drawn) {
        if isTerminal && !drawn.currentPhase.isEmpty { write("\n") }
        drawn.currentPhase = ""
    }
}

/// A plain log line on standard error.
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
