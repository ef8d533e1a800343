import Foundation
import Jobs

/// Liveness checks run on a timer. When the timer itself fires very late, this process was stalled (a loaded
/// machine, a paused VM, a busy thread pool), and its peers' messages may still wait unread in its queues: then
/// nobody should count as silent, and everyone gets a fresh liveness window.
struct StallGuard {
    /// A gap between ticks longer than this (half the liveness window) is a stall.
    let toleranceSeconds: Double
    private var lastTick = Date()

    init(heartbeatMilliseconds: Int, liveness: Int) {
        toleranceSeconds = Double(heartbeatMilliseconds * liveness) / 2000
    }

    /// Call once per tick: whether this tick came a stall after the previous one.
    mutating func stalled(now: Date) -> Bool {
        defer { lastTick = now }
        return now.timeIntervalSince(lastTick) > toleranceSeconds
    }
}
