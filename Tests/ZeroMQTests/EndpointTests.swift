import Testing
import ZeroMQ

struct EndpointTests {
    @Test(arguments: [
        ("tcp://127.0.0.1:7701", "tcp://127.0.0.1:7701"),
        ("localhost:7701", "tcp://localhost:7701"),
        ("127.0.0.1:7701", "tcp://127.0.0.1:7701"),
        ("coordinator.example.org:7700", "tcp://coordinator.example.org:7700"),
        ("tcp://0.0.0.0:7700", "tcp://0.0.0.0:7700"),
        ("tcp://*:7700", "tcp://*:7700"),
        ("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"),
        ("[::1]:7701", "tcp://[::1]:7701"),
        ("ipc:///tmp/lethe/control.sock", "ipc:///tmp/lethe/control.sock"),
        ("inproc://control", "inproc://control"),
    ])
    func acceptedForms(_ text: String, _ expected: String) throws {
        #expect(try Endpoint(parsing: text).description == expected)
    }

    @Test(arguments: [
        ("", EndpointError.empty),
        ("tcp://localhost", .missingPort("tcp://localhost")),
        ("localhost", .missingPort("localhost")),
        ("localhost:", .missingPort("localhost:")),
        ("tcp://:7701", .missingHost("tcp://:7701")),
        (":7701", .missingHost(":7701")),
        ("tcp://localhost:http", .badPort("tcp://localhost:http", port: "http")),
        ("tcp://localhost:70000", .badPort("tcp://localhost:70000", port: "70000")),
        ("tcp://localhost:0", .badPort("tcp://localhost:0", port: "0")),
        ("tcp://::1:7701", .badHost("tcp://::1:7701")),
        ("http://localhost:7701", .unsupportedScheme("http://localhost:7701", scheme: "http")),
        ("ipc://", .missingAddress("ipc://")),
        ("inproc://", .missingAddress("inproc://")),
        ("http://example.org/lethe", .unsupportedScheme("http://example.org/lethe", scheme: "http")),
    ])
    func refusedForms(_ text: String, _ expected: EndpointError) {
        #expect(throws: expected) { try Endpoint(parsing: text) }
    }

    @Test func errorsNameTheTextAndTheExpectedForms() {
        let error = EndpointError.missingPort("tcp://localhost")
        #expect(error.description.contains("'tcp://localhost' has no port"))
        #expect(error.description.contains("tcp://HOST:PORT, HOST:PORT, ipc://PATH or inproc://NAME"))
    }

    @Test func localEndpoints() throws {
        #expect(try Endpoint(parsing: "127.0.0.1:7701").isLocal)
        #expect(try Endpoint(parsing: "tcp://localhost:7701").isLocal)
        #expect(try Endpoint(parsing: "ipc:///tmp/x.sock").isLocal)
        #expect(try !Endpoint(parsing: "tcp://0.0.0.0:7700").isLocal)
        #expect(try !Endpoint(parsing: "example.org:7700").isLocal)
    }
}
