import Testing
import ZeroMQ

struct ZeroMQLibraryTests {
    @Test func linkedLibraryIsVersion4WithCurve() throws {
        let major = try #require(Int(ZeroMQLibrary.version.split(separator: ".").first ?? ""))
        #expect(major >= 4)
        #expect(ZeroMQLibrary.hasCurve)
    }
}
