import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// SSH agent forwarding into a session: the socket `$SSH_AUTH_SOCK` names on the host is
/// bound at a fixed path inside, so `ssh`, `ssh-add` and git over ssh use the host's keys
/// without the keys entering the container.
public enum SSHAgentForwarding {
    /// Under /run, which images leave empty; fixed, so a warm record's spec stays valid
    /// while the host's socket path changes between logins (the path is part of the key).
    public static let containerSocket = "/run/devenv/ssh-agent.sock"

    /// The host's agent socket: `$SSH_AUTH_SOCK` when it is an absolute path to a socket.
    /// Unset, relative, missing or dangling: nil, and the session starts without an agent
    /// (a stale variable from an old login must not stop the shell).
    public static func hostSocket(environment: [String: String]) -> String? {
        guard let path = environment["SSH_AUTH_SOCK"], path.hasPrefix("/") else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { return nil }
        return path
    }
}
