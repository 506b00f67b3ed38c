import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// `devenv-core`, the whole CLI, installed beside `devenv`.
enum CoreExecutable {
    static let name = "devenv-core"

    static func exec(_ arguments: [String]) -> Never {
        let path = location()
        let argv = arguments.map { strdup($0) } + [nil]
        execv(path, argv)
        let code = errno
        StandardError.line("devenv: error: \(SystemError("run", path: path, errno: code))\n"
            + "hint: devenv and \(name) are installed together (bash scripts/quickstart.sh installs both)")
        exit(125)
    }

    /// Beside the running executable (through /proc/self/exe, so symlinks to devenv work).
    static func location() -> String { RunningExecutable.sibling(name) ?? name }
}
