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
    static func location() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return name }
        let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return PathName.parent(executable) + "/" + name
    }
}
