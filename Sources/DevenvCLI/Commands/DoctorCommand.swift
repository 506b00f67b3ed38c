import ArgumentParser
import DevenvKit
import DevenvRuntime
import DevenvStore
import Foundation

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this host can run devenv's containers, and say what to fix.",
        discussion: "Exits non-zero when something required is broken.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try Doctor(storeRoot: global.store ?? StoreLayout.defaultRoot(), cdi: CDIRegistry.host()).run()
        if global.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Terminal.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for check in report.checks {
                let mark = check.status == .ok ? "ok  " : check.status == .warning ? "warn" : "FAIL"
                Terminal.print("\(mark)  \(check.name): \(check.detail)")
                if let fix = check.fix, check.status != .ok { Terminal.print("      fix: \(fix)") }
            }
        }
        if !report.healthy { throw ExitCode(1) }
    }
}
