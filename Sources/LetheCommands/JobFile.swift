import ArgumentParser
import Foundation
import Jobs
import Yams

/// `lethe submit --job FILE`: a YAML job file whose keys are `lethe submit`'s own flags, so a job can be kept
/// and reviewed as a file:
///
///     method: scrub
///     model: fmnist-cnn
///     weights: original.safetensors
///     forget-classes: 0,6          # or forget-fraction, forget-indices, confuse-classes + confuse-count
///     seed: 1
///     shards: 4
///     param: {lr: 0.002, epochs: 3}
///     references: refs/           # judged by the membership audit too (lethe audit prepare --out refs/)
///     normalize: none             # only for a checkpoint that does not record its preprocessing
///
/// Flags on the command line come after the file's, so they win.
enum JobFile {
    /// The command line with `--job FILE` replaced by the flags the file holds.
    static func expand(_ arguments: [String]) throws -> [String] {
        guard arguments.first == "submit", let index = arguments.firstIndex(of: "--job") else { return arguments }
        guard index + 1 < arguments.count else { throw ValidationError("--job needs a YAML file") }
        let path = arguments[index + 1]
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the job file \(path)")
        }
        let flags = try flags(fromYAML: text, path: path)
        return [arguments[0]] + flags + arguments[1..<index] + arguments[(index + 2)...]
    }

    static func flags(fromYAML text: String, path: String) throws -> [String] {
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw ValidationError("\(path) is not valid YAML: \(error)")
        }
        guard let mapping = document as? [String: Any] else {
            throw ValidationError("\(path) must be a mapping of submit flags to values (e.g. `method: scrub`)")
        }
        var flags: [String] = []
        for (key, value) in mapping.sorted(by: { $0.key < $1.key }) {
            guard key != "job", key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ValidationError("\(path): '\(key)' is not a flag of lethe submit")
            }
            switch value {
            case let parameters as [String: Any] where key == "param":
                for (name, setting) in parameters.sorted(by: { $0.key < $1.key }) {
                    flags += ["--param", "\(name)=\(try scalar(setting, key: "param.\(name)", path: path))"]
                }
            case let list as [Any]:
                // A list of classes becomes "0,6"; other lists repeat the flag.
                let items = try list.map { try scalar($0, key: key, path: path) }
                if key.hasSuffix("classes") {
                    flags += ["--\(key)", items.joined(separator: ",")]
                } else {
                    for item in items { flags += ["--\(key)", item] }
                }
            case let flag as Bool:
                if flag { flags.append("--\(key)") }
            default:
                flags += ["--\(key)", try scalar(value, key: key, path: path)]
            }
        }
        return flags
    }

    private static func scalar(_ value: Any, key: String, path: String) throws -> String {
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let flag as Bool: return String(flag)
        default: throw ValidationError("\(path): the value of '\(key)' must be a number or a string")
        }
    }
}
