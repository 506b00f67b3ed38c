import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The process that holds a project's private network (`NetworkMode.private`): a network
/// namespace with only `lo`, created in a user namespace with devenv's mapping when rootless,
/// which the project's services and environments are created in (`NetworkJoin`). It forwards
/// the published ports from the host's loopback into the namespace (`PortForwarder`), the way
/// rootlesskit's builtin port driver does, and exits once the last container that keeps a
/// connection to its `Lifeline` is gone.
public enum NetworkHolder {
    /// The hidden argument that selects the holder in devenv-init (and devenv, devenv-core).
    public static let argument = "__network-holder"
    /// place_fds passes at most 16 descriptors: the channel, the report pipe, the lifeline,
    /// the listeners.
    public static let maxPorts = 13

    /// Binds 127.0.0.1:PORT for each port on the host (so a port in use fails here, naming
    /// it) and the lifeline socket at `lifeline`, then starts the holder with those sockets;
    /// returns once `lo` is up in its namespace.
    public static func start(ports: [Int], mapping: IDMapping?, executable: String, lifeline: String) throws -> PrivateNetwork {
        guard ports.count <= maxPorts else {
            throw RuntimeError.invalid("private network: \(ports.count) published ports; at most \(maxPorts) are forwarded")
        }
        let listeners = try [Lifeline.listen(at: lifeline)] + ports.map(PortForwarder.bind)
        defer { for listener in listeners { close(listener) } }
        let (parentChannel, childChannel) = try RuntimeError.wrapSetup { try FileDescriptor.socketPair() }
        let (reportRead, reportWrite) = try RuntimeError.wrapSetup { try FileDescriptor.pipe() }
        let null = try RuntimeError.wrapSetup { try FileDescriptor.open("/dev/null", O_RDWR | O_CLOEXEC) }
        var clone = ContainerClone(flags: CLONE_NEWNET | (mapping == nil ? 0 : CLONE_NEWUSER), path: executable,
                                   arguments: [executable, argument] + ports.map(String.init),
                                   errorDescriptor: reportWrite.raw, errorDescriptorAfterExec: InitPlan.reportFD, becomeRoot: mapping != nil)
        clone.syncDescriptor = mapping == nil ? -1 : childChannel.raw
        clone.parentDescriptors = [parentChannel.raw, reportRead.raw]
        clone.stdio = (null.raw, null.raw, null.raw)
        clone.passed = [childChannel.raw, reportWrite.raw] + listeners
        let child = clone.spawn()
        guard child.pid > 0 else {
            let code = child.errno
            throw RuntimeError(.setup, InitReport.describe("clone the project network's namespaces", errno: code), errno: code,
                               hint: SetupHint.forClone(errno: code, userNamespace: mapping != nil))
        }
        let pidfd = FileDescriptor(adopting: child.pidfd)
        close(childChannel.release())
        close(reportWrite.release())
        func fail(_ error: Error) throws -> Never {
            ProcessControl.signal(pidfd: pidfd.raw, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(child.pid, &status, 0)
            throw error
        }
        if let mapping {
            do {
                try IDMapWriter.current(mapping).write(pid: child.pid)
            } catch {
                try fail(error)
            }
            var go: UInt8 = 1
            _ = Glibc.send(parentChannel.raw, &go, 1, Int32(MSG_NOSIGNAL))
        }
        // The holder closes its channel once `lo` is up; a failed one exits first.
        _ = try? FileDescriptor.readAll(parentChannel.raw)
        FileDescriptor.setNonBlocking(reportRead.raw)
        let report = (try? FileDescriptor.readAll(reportRead.raw, limit: 65536)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if case let .setup(text)? = InitReport.parse(report).first {
            try fail(RuntimeError(.setup, "start the project network: \(text)"))
        }
        guard let stamp = ProcessStamp.current(child.pid) else {
            try fail(RuntimeError(.setup, "start the project network: its holder (pid \(child.pid)) exited during setup"))
        }
        return PrivateNetwork(holder: stamp, lifeline: lifeline)
    }

    /// The holder's side, in its namespaces: fds 3 (channel), 4 (report), 5 (the lifeline), 6…
    /// (the listeners, in the order of the port arguments).
    public static func main(_ arguments: [String]) -> Never {
        let reporter = Reporter(descriptor: InitPlan.reportFD)
        // It outlives the devenv that started it, like an environment's init.
        try? ProcessControl.setParentDeathSignal(0)
        signal(SIGPIPE, SIG_IGN)
        let ports = arguments.compactMap { Int($0) }
        guard ports.count == arguments.count else { reporter.failSetup("network holder: ports must be numbers") }
        do {
            try ProcessControl.bringUpLoopback()
            // From here it only relays bytes: it keeps no capability.
            try ProcessControl.setNoNewPrivileges()
            try ProcessControl.clearAmbientCapabilities()
            try ProcessControl.setCapabilities(effective: 0, permitted: 0, inheritable: 0)
        } catch let error as SystemError {
            reporter.failSetup(error)
        } catch {
            reporter.failSetup("\(error)")
        }
        close(InitPlan.channelFD)
        close(reporter.descriptor)
        let listeners = ports.enumerated().map { PortForwarder.Listener(socket: InitPlan.firstPassedFD + 1 + Int32($0.offset), port: $0.element) }
        var forwarder = PortForwarder(listeners: listeners, lifeline: InitPlan.firstPassedFD)
        forwarder.run()
        _exit(0)
    }
}

/// A running project network (`ContainerSpec.privateNetwork`): the holder whose namespaces its
/// containers are created in, and the lifeline socket each of them keeps a connection to.
public struct PrivateNetwork: Hashable, Codable, Sendable {
    public var holder: ProcessStamp
    public var lifeline: String

    public init(holder: ProcessStamp, lifeline: String) {
        self.holder = holder
        self.lifeline = lifeline
    }
}
