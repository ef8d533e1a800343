/// One received multipart message.
public struct Message: Sendable, Equatable {
    /// The parts in order. A ROUTER puts the sender's routing id first.
    public var frames: [[UInt8]]
    /// The ZAP "User-Id" metadata of the connection it came from: for CURVE with `ZAPHandler`, the Z85 public key
    /// of the authenticated client; "" for NULL connections a `ZAPHandler` allowed; nil when no ZAP handler was
    /// consulted (e.g. inproc, or NULL without a ZAP domain).
    public var userID: String?

    /// A message with `frames` and an optional `userID`.
    public init(frames: [[UInt8]], userID: String? = nil) {
        self.frames = frames
        self.userID = userID
    }
}
