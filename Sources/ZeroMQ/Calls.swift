import CZeroMQ

/// The raw libzmq calls this module makes, named after their C functions. Each one turns a `-1` / `NULL` result
/// into a thrown `ZeroMQError` carrying `errno`, and does nothing else: no retries, no policy.
enum Calls {
    typealias Handle = UnsafeMutableRawPointer
    typealias MessagePointer = UnsafeMutablePointer<zmq_msg_t>

    // MARK: Contexts

    static func zmq_ctx_new() throws(ZeroMQError) -> Handle {
        guard let context = CZeroMQ.zmq_ctx_new() else { throw .last("zmq_ctx_new") }
        return context
    }

    static func zmq_ctx_set(_ context: Handle, _ option: Int32, _ value: Int32) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_ctx_set(context, option, value), "zmq_ctx_set")
    }

    static func zmq_ctx_get(_ context: Handle, _ option: Int32) throws(ZeroMQError) -> Int32 {
        let value = CZeroMQ.zmq_ctx_get(context, option)
        try check(value, "zmq_ctx_get")
        return value
    }

    static func zmq_ctx_shutdown(_ context: Handle) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_ctx_shutdown(context), "zmq_ctx_shutdown")
    }

    static func zmq_ctx_term(_ context: Handle) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_ctx_term(context), "zmq_ctx_term")
    }

    // MARK: Sockets

    static func zmq_socket(_ context: Handle, _ type: Int32) throws(ZeroMQError) -> Handle {
        guard let socket = CZeroMQ.zmq_socket(context, type) else { throw .last("zmq_socket") }
        return socket
    }

    static func zmq_close(_ socket: Handle) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_close(socket), "zmq_close")
    }

    static func zmq_setsockopt(_ socket: Handle, _ option: Int32, _ value: [UInt8]) throws(ZeroMQError) {
        let rc = value.withUnsafeBytes { CZeroMQ.zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
        try check(rc, "zmq_setsockopt")
    }

    /// Reads an option into a buffer of `capacity` bytes and returns the bytes libzmq wrote.
    static func zmq_getsockopt(_ socket: Handle, _ option: Int32, capacity: Int) throws(ZeroMQError) -> [UInt8] {
        var value = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        let rc = value.withUnsafeMutableBytes { CZeroMQ.zmq_getsockopt(socket, option, $0.baseAddress, &size) }
        try check(rc, "zmq_getsockopt")
        return Array(value.prefix(size))
    }

    static func zmq_bind(_ socket: Handle, _ endpoint: String) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_bind(socket, endpoint), "zmq_bind")
    }

    static func zmq_unbind(_ socket: Handle, _ endpoint: String) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_unbind(socket, endpoint), "zmq_unbind")
    }

    static func zmq_connect(_ socket: Handle, _ endpoint: String) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_connect(socket, endpoint), "zmq_connect")
    }

    static func zmq_disconnect(_ socket: Handle, _ endpoint: String) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_disconnect(socket, endpoint), "zmq_disconnect")
    }

    /// Makes `socket` publish its events (`events`, a mask of `ZMQ_EVENT_*`) on a PAIR socket it binds to the
    /// inproc `endpoint`; connect a PAIR of the same context to read them.
    static func zmq_socket_monitor(_ socket: Handle, _ endpoint: String, _ events: Int32) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_socket_monitor(socket, endpoint, events), "zmq_socket_monitor")
    }

    // MARK: Messages

    static func zmq_msg_init(_ message: MessagePointer) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_msg_init(message), "zmq_msg_init")
    }

    static func zmq_msg_init_size(_ message: MessagePointer, _ size: Int) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_msg_init_size(message, size), "zmq_msg_init_size")
    }

    /// Wraps `data` without copying; libzmq calls `free(data, hint)` once it no longer needs the bytes.
    static func zmq_msg_init_data(
        _ message: MessagePointer, _ data: UnsafeRawBufferPointer,
        _ free: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void,
        _ hint: UnsafeMutableRawPointer
    ) throws(ZeroMQError) {
        let rc = CZeroMQ.zmq_msg_init_data(
            message, UnsafeMutableRawPointer(mutating: data.baseAddress), data.count, free, hint)
        try check(rc, "zmq_msg_init_data")
    }

    static func zmq_msg_close(_ message: MessagePointer) {
        _ = CZeroMQ.zmq_msg_close(message)  // fails only for an uninitialised message (EFAULT)
    }

    static func zmq_msg_send(_ message: MessagePointer, _ socket: Handle, _ flags: Int32) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_msg_send(message, socket, flags), "zmq_msg_send")
    }

    static func zmq_msg_recv(_ message: MessagePointer, _ socket: Handle, _ flags: Int32) throws(ZeroMQError) {
        try check(CZeroMQ.zmq_msg_recv(message, socket, flags), "zmq_msg_recv")
    }

    static func zmq_msg_data(_ message: MessagePointer) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: CZeroMQ.zmq_msg_data(message), count: CZeroMQ.zmq_msg_size(message))
    }

    static func zmq_msg_more(_ message: MessagePointer) -> Bool {
        CZeroMQ.zmq_msg_more(message) != 0
    }

    /// A metadata property of a received message, or nil when the message does not carry it.
    static func zmq_msg_gets(_ message: MessagePointer, _ property: String) -> String? {
        CZeroMQ.zmq_msg_gets(message, property).map { String(cString: $0) }
    }

    // MARK: Polling

    /// Returns the number of items with events; throws `EINTR` when a signal interrupted the wait.
    static func zmq_poll(_ items: inout [zmq_pollitem_t], _ timeout: Int) throws(ZeroMQError) -> Int {
        let count = Int32(items.count)
        let rc = items.withUnsafeMutableBufferPointer { CZeroMQ.zmq_poll($0.baseAddress, count, timeout) }
        try check(rc, "zmq_poll")
        return Int(rc)
    }

    // MARK: CURVE keys and Z85

    /// A new key pair as (public, secret) Z85 strings.
    static func zmq_curve_keypair() throws(ZeroMQError) -> (publicKey: String, secretKey: String) {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        try check(CZeroMQ.zmq_curve_keypair(&publicKey, &secretKey), "zmq_curve_keypair")
        return (string(publicKey), string(secretKey))
    }

    /// The Z85 public key belonging to a Z85 secret key.
    static func zmq_curve_public(_ secretKey: String) throws(ZeroMQError) -> String {
        var publicKey = [CChar](repeating: 0, count: 41)
        try check(CZeroMQ.zmq_curve_public(&publicKey, secretKey), "zmq_curve_public")
        return string(publicKey)
    }

    /// Z85 text for `bytes`, whose count must be a multiple of 4.
    static func zmq_z85_encode(_ bytes: [UInt8]) -> String? {
        var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        guard CZeroMQ.zmq_z85_encode(&text, bytes, bytes.count) != nil else { return nil }
        return string(text)
    }

    /// The bytes of Z85 `text`, or nil when its length is not a multiple of 5 or it holds a non-Z85 character.
    static func zmq_z85_decode(_ text: String) -> [UInt8]? {
        let length = text.utf8.count
        guard length % 5 == 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: length * 4 / 5)
        guard CZeroMQ.zmq_z85_decode(&bytes, text) != nil else { return nil }
        return bytes
    }

    // MARK: Helpers

    private static func check(_ rc: Int32, _ call: String) throws(ZeroMQError) {
        if rc == -1 { throw .last(call) }
    }

    private static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
