import ArgumentParser
import Foundation
import Logging

/// `--log-level` and `--log-format` of the daemons (coordinator, worker, client): their log goes to standard
/// error as text lines or as one JSON object per line, with the job id, peer and key as metadata.
struct LogOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info
    @Option(help: "text, or json for one JSON object per line (time, level, label, message and metadata).")
    var logFormat: Format = .text

    /// A logger labelled `label` (the daemon, or the worker's or client's name) at the chosen level and format.
    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { [logFormat] label in
            StandardErrorLogHandler(label: label, format: logFormat)
        }
        logger.logLevel = logLevel
        return logger
    }

    /// The default: info and above as text lines.
    static func standardError(_ label: String) -> Logger {
        Logger(label: label) { StandardErrorLogHandler(label: $0, format: .text) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Writes each log record as one line on standard error.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    let format: LogOptions.Format
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        let line: String
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            line = "\(time) \(event.level) \(label): \(event.message)\(fields)"
        case .json:
            var object = merged.mapValues { "\($0)" }
            object["time"] = time
            object["level"] = "\(event.level)"
            object["label"] = label
            object["message"] = "\(event.message)"
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
