import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one gate for privileged and tool-dependent tests, in every test target. Outside CI a
/// missing requirement disables the test with the reason shown; on CI (CI=true) the test
/// runs and fails loudly instead, so a broken CI machine never passes by skipping.
public enum Requirement {
    public static var onCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    public static var isRoot: Bool { geteuid() == 0 }

    public static func hasProgram(_ name: String) -> Bool { Tools.has(name) }

    /// For `.enabled(if:)`: true when satisfied, or on CI (where the test then fails).
    public static func root() -> Bool { isRoot || onCI }

    public static func programs(_ names: String...) -> Bool { onCI || names.allSatisfy(hasProgram) }

    public static func rootAndPrograms(_ names: String...) -> Bool { onCI || (isRoot && names.allSatisfy(hasProgram)) }

    /// What a test needed and did not find.
    public struct Unmet: Error, CustomStringConvertible {
        public let what: String
        public var description: String { "this test needs \(what)" }
    }

    /// Throws a clear message when the requirement is not met (reached only on CI, or when a
    /// test is run by hand without it).
    public static func require(root: Bool = false, programs: [String] = []) throws {
        if root && !isRoot { throw Unmet(what: "root privileges (it runs real containers, mounts or creates device nodes)") }
        for program in programs where !hasProgram(program) {
            throw Unmet(what: "program '\(program)'")
        }
    }
}
