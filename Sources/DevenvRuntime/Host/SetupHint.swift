#if canImport(Glibc)
import Glibc
#endif

/// Known fixes for setup failures, chosen from the failing stage and errno (pure).
public enum SetupHint {
    public static func forClone(errno code: Int32, userNamespace: Bool) -> String? {
        guard userNamespace else {
            return code == EPERM ? "creating namespaces needs root or a user namespace; run `devenv doctor`" : nil
        }
        switch UserNamespaceRefusal(errno: code) {
        case .restricted:
            return "user namespaces are restricted: check sysctl kernel.unprivileged_userns_clone=1 and kernel.apparmor_restrict_unprivileged_userns=0, "
                + "and the seccomp filter of a container devenv runs in; run `devenv doctor`"
        case .exhausted:
            return "no user namespaces left: raise sysctl user.max_user_namespaces (it may be 0, here or in a parent namespace); run `devenv doctor`"
        case .unsupported:
            return "this kernel lacks a namespace type devenv needs (user, mount, pid, uts, ipc, cgroup); run `devenv doctor`"
        case nil:
            return nil
        }
    }

    /// What an errno from creating a user namespace says about the host: the one reading of
    /// it, for a clone that fails (`forClone`) and for the probe before the store is touched
    /// (`RootlessSupport`).
    public enum UserNamespaceRefusal: Sendable {
        /// EPERM, EACCES: a sysctl, a security module (AppArmor, SELinux) or a seccomp filter
        /// (a container's) denies them to this user.
        case restricted
        /// ENOSPC, EUSERS: user.max_user_namespaces is 0 or used up, here or in a parent namespace.
        case exhausted
        /// EINVAL: the kernel lacks the namespace type.
        case unsupported

        public init?(errno code: Int32) {
            switch code {
            case EPERM, EACCES: self = .restricted
            case ENOSPC, EUSERS: self = .exhausted
            case EINVAL: self = .unsupported
            default: return nil
            }
        }
    }

    /// A hint for an init report `stage: message (ERRNO)`.
    public static func forSetup(_ message: String, errno code: Int32?) -> String? {
        if message.hasPrefix("mount overlay") {
            if code == ENODEV { return "overlayfs is not available: load the overlay module (modprobe overlay)" }
            return "overlayfs refused these layers; run `devenv doctor` (a user namespace needs Linux 5.11+, and the store must not be on NFS or on another overlay)"
        }
        if message.hasPrefix("mount proc") && code == EPERM {
            return "mounting /proc in a user namespace needs a fully visible /proc (is devenv itself running in a container?)"
        }
        if message.hasPrefix("setresuid") || message.hasPrefix("setresgid") {
            return "the container user is not mapped; check /etc/subuid and /etc/subgid (devenv doctor)"
        }
        if message.hasPrefix("bind") && message.contains(OwnerMappedMounts.stage) {
            return "the file system of this directory does not support idmapped mounts (Linux 5.12+: ext4, xfs, btrfs, tmpfs, ...), which running as root needs so that files the container makes there are the owner's; run devenv as that user instead (rootless)"
        }
        if message.hasPrefix("chdir") && code == ENOENT {
            return "the working directory does not exist in the image"
        }
        return nil
    }
}
