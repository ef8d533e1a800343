import Foundation
import Jobs
import Testing
import Transport

@testable import Coordinator

struct StallGuardTests {
    /// Ticks on time are not stalls; a gap of more than half the liveness window (here 1 s) is.
    @Test func aLateTickIsAStall() {
        var stallGuard = StallGuard(heartbeatMilliseconds: 100, liveness: 20)
        let start = Date()
        let ticks = [0.1, 0.9, 2.5, 2.6].map { stallGuard.stalled(now: start.addingTimeInterval($0)) }
        #expect(ticks == [false, false, true, false])
    }
}
