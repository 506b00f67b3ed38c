import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// A helper program run as root of a new user namespace with devenv's id mapping (and no
/// other namespace), the way rootless buildah and podman reach what their containers wrote:
/// a rootless build's upper directory holds files of subordinate ids, modes 0600/0700 and
/// all, that the user cannot read or remove, but the namespace's root can, and it sees their
/// owners as the container did. It has no more power on the host than the user: only files
/// owned by ids of the mapping are its own.
public struct UserNamespaceProcess {
    public struct Result: Sendable {
        public var status: ExitStatus
        /// The helper's stderr (at most 64 KiB).
        public var errorOutput: String
    }

    let pid: pid_t
    let pidfd: FileDescriptor
    let errorOutput: FileDescriptor
    /// The read end of a pipe from the helper's stdout (`captureOutput`); the caller reads
    /// it to its end (or closes it) before `wait`.
    public let output: FileDescriptor?
    /// The parent's end of a stream socket that is the helper's stdin (`feedInput`): a
    /// socket, so a write after the helper exited fails with EPIPE (MSG_NOSIGNAL) instead
    /// of raising SIGPIPE.
    public let input: FileDescriptor?

    /// Starts `executable` with `arguments` (argv[1...]) and an empty environment; its stdin
    /// is a socket to `input` with `feedInput`, else /dev/null; its stdout a pipe to
    /// `output` with `captureOutput`, else /dev/null.
    public static func start(executable: String, arguments: [String], mapping: IDMapping, captureOutput: Bool = false,
                             feedInput: Bool = false) throws -> UserNamespaceProcess {
        let (parentChannel, childChannel) = try RuntimeError.wrapSetup { try FileDescriptor.socketPair() }
        let (errorRead, errorWrite) = try RuntimeError.wrapSetup { try FileDescriptor.pipe() }
        let null = try FileDescriptor.open("/dev/null", O_RDWR | O_CLOEXEC)
        var outputEnds: (read: FileDescriptor, write: FileDescriptor)?
        if captureOutput { outputEnds = try RuntimeError.wrapSetup { try FileDescriptor.pipe() } }
        let outputRead = outputEnds?.read
        let outputWrite = outputEnds?.write ?? null
        var inputEnds: (parent: FileDescriptor, child: FileDescriptor)?
        if feedInput { inputEnds = try RuntimeError.wrapSetup { try FileDescriptor.socketPair() } }
        let inputRead = inputEnds?.child ?? null

        var clone = ContainerClone(flags: CLONE_NEWUSER, path: executable, arguments: [executable] + arguments,
                                   errorDescriptor: errorWrite.raw, errorDescriptorAfterExec: 2, becomeRoot: true)
        clone.syncDescriptor = childChannel.raw
        clone.parentDescriptors = [parentChannel.raw, errorRead.raw]
        clone.stdio = (inputRead.raw, outputWrite.raw, errorWrite.raw)
        let child = clone.spawn()
        let (pid, pidfd) = (child.pid, child.pidfd)
        guard pid > 0 else {
            let code = child.errno
            throw RuntimeError(.setup, InitReport.describe("clone a user namespace", errno: code), errno: code,
                               hint: SetupHint.forClone(errno: code, userNamespace: true))
        }
        let process = UserNamespaceProcess(pid: pid, pidfd: FileDescriptor(adopting: pidfd), errorOutput: errorRead, output: outputRead,
                                           input: inputEnds?.parent)
        close(childChannel.release())
        close(errorWrite.release())
        do {
            try IDMapWriter.current(mapping).write(pid: pid)
        } catch {
            process.kill()
            _ = try? process.wait()
            throw error
        }
        // The helper waits for this byte: it must not start before its ids are mapped.
        var go: UInt8 = 1
        _ = Glibc.send(parentChannel.raw, &go, 1, Int32(MSG_NOSIGNAL))
        return process
    }

    /// Runs the helper to completion (stdout to /dev/null).
    public static func run(executable: String, arguments: [String], mapping: IDMapping) throws -> Result {
        try start(executable: executable, arguments: arguments, mapping: mapping).wait()
    }

    /// Reads the helper's stderr to its end and waits for it.
    public func wait() throws -> Result {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(errorOutput.raw, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            if bytes.count < 65536 { bytes += buffer[0..<count] }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw RuntimeError.setup(SystemError.last("waitpid \(pid)")) }
        }
        return Result(status: ExitStatus(waitStatus: status), errorOutput: String(decoding: bytes, as: UTF8.self))
    }

    public func kill() { ProcessControl.signal(pidfd: pidfd.raw, SIGKILL) }
}
