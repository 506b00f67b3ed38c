import DevenvTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension TestUser {
    /// Runs the devenv binary as this user with a clean environment.
    func devenv(_ arguments: [String], directory: String) throws -> Command.Running {
        let (program, line) = command(try Fixture.devenvBinary(), arguments)
        return try Command.start(program, line, directory: directory)
    }
}

/// A process-wide lock file (tests run in parallel within one process and across runs).
final class FileLockHolder {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FixtureError("open \(path) failed") }
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
    }

    func release() { close(descriptor) }
}
