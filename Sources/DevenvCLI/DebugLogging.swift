import DevenvManifest
import DevenvSystem
import Foundation
#if canImport(Logging)
import Logging
#endif

/// Turns `DebugLog` on for `--debug` or `DEVENV_LOG=debug`: through swift-log's stderr
/// handler where the package resolves (it needs Swift 6.2's package manager), else as plain
/// `devenv: debug:` lines. Untrusted text is made terminal-safe here, where it is printed.
enum DebugLogging {
    static let variable = "DEVENV_LOG"

    static func enableIfRequested(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if environment[variable]?.lowercased() == "debug" { enable() }
    }

    static func enable() {
        guard !DebugLog.isEnabled else { return }
        #if canImport(Logging)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .debug
            return handler
        }
        let logger = Logger(label: "devenv")
        DebugLog.enable { category, message in
            logger.debug("\(Printable.terminalSafe(message))", metadata: ["phase": "\(category)"])
        }
        #else
        DebugLog.enable { category, message in
            StandardError.line("devenv: debug: [\(category)] \(Printable.terminalSafe(message))")
        }
        #endif
    }
}
