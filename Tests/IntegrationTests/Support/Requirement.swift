@testable import DevenvTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a privileged or tool-dependent test needs. Outside CI a missing requirement
/// disables the test with the reason shown; on CI (CI=true) the test runs and fails
/// loudly instead, so a broken CI machine never passes by skipping.
enum Requirement {
    static var onCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static var isRoot: Bool { geteuid() == 0 }

    static func hasProgram(_ name: String) -> Bool { (try? DevenvProcess.which(name)) != nil }

    /// For `.enabled(if:)`: true when satisfied, or on CI (where the test then fails).
    static func root() -> Bool { isRoot || onCI }

    static func programs(_ names: String...) -> Bool { onCI || names.allSatisfy(hasProgram) }

    static func rootAndPrograms(_ names: String...) -> Bool { onCI || (isRoot && names.allSatisfy(hasProgram)) }

    /// Throws a clear message when the requirement is not met (reached only on CI).
    static func require(root: Bool = false, programs: [String] = []) throws {
        if root && !isRoot { throw DevenvProcess.Missing(what: "root privileges (this test runs real containers or creates device nodes)") }
        for program in programs where !hasProgram(program) {
            throw DevenvProcess.Missing(what: "program '\(program)'")
        }
    }
}
