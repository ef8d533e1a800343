import Foundation
import Jobs
import Unlearning

/// Shows progress on standard error: a redrawn bar on a terminal, a plain line per phase otherwise.
final class ProgressBar: @unchecked Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var currentPhase = ""
    private var phaseStart = Date()

    static let quiet: ProgressHandler = { _ in }

    var handler: ProgressHandler { { [self] in self.report($0) } }

    func report(_ progress: PhaseProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if progress.phase != currentPhase {
            finishLine()
            currentPhase = progress.phase
            phaseStart = now
        }
        let done = progress.isFinal
        if isTerminal {
            guard done || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            let width = 30
            let filled = progress.total == 0 ? width : width * progress.completed / progress.total
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let loss = progress.loss.map { String(format: "  loss %.4f", $0) } ?? ""
            let line = "\(progress.phase)  \(bar) \(progress.count)\(loss)  \(elapsed(now))"
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            if done { finishLine() }
        } else if done {
            let loss = progress.loss.map { String(format: " loss %.4f", $0) } ?? ""
            log("\(progress.phase): \(progress.count)\(loss) in \(elapsed(now))")
        }
    }

    private func elapsed(_ now: Date) -> String { String(format: "%.1fs", now.timeIntervalSince(phaseStart)) }

    private func finishLine() {
        if isTerminal && !currentPhase.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
        currentPhase = ""
    }
}

/// A plain log line on standard error.
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
