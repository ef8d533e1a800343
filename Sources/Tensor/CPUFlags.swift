import Foundation

/// The CPU's feature flags as /proc/cpuinfo lists them (its first "flags" line).
public enum CPUFlags {
    /// The flags of `cpuinfo`'s first "flags" line; empty when it has none.
    public static func of(cpuinfo: String) -> Set<String> {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }

    /// This CPU's flags; empty where /proc/cpuinfo cannot be read.
    public static var current: Set<String> {
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).map(of(cpuinfo:)) ?? []
    }
}
