/// The version of Lethe that computed a result, as certificates and reports state it.
public enum LetheVersion {
    public static let current = "0.1.0"
}
