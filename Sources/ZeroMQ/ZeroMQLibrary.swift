import CZeroMQ

/// Facts about the linked libzmq.
public enum ZeroMQLibrary {
    /// "major.minor.patch" of the linked libzmq.
    public static var version: String {
        var (major, minor, patch): (Int32, Int32, Int32) = (0, 0, 0)
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether libzmq was built with CURVE security (Lethe's default transport security needs it).
    public static var hasCurve: Bool { zmq_has("curve") != 0 }
}
