import DevenvSystem
import DevenvText

/// What an unprivileged user's devenv needs from the host to build or start environments:
/// user namespaces it may create, and subordinate id ranges with newuidmap/newgidmap to map
/// them (images own files as many users, and package managers switch to them). Pure: the
/// facts come in (whether a user namespace can be created as a closure, tried only when the
/// sysctls allow them). `devenv doctor` and the commands that build or start environments
/// from the store ask these same questions, so both say the same thing, and the commands say
/// it before they create or change the store.
public enum RootlessSupport {
    public struct Problem: Hashable, Sendable {
        /// The doctor check that reports it.
        public var check: String
        public var reason: String
        public var fix: String
    }

    /// Sysctl values, nil when the knob does not exist on this kernel.
    public struct Sysctls: Hashable, Sendable {
        public var maxUserNamespaces: Int?
        public var unprivilegedClone: Int?
        public var apparmorRestrict: Int?

        public init(maxUserNamespaces: Int?, unprivilegedClone: Int?, apparmorRestrict: Int?) {
            self.maxUserNamespaces = maxUserNamespaces
            self.unprivilegedClone = unprivilegedClone
            self.apparmorRestrict = apparmorRestrict
        }

        public static func current() -> Sysctls {
            Sysctls(maxUserNamespaces: read("user/max_user_namespaces"), unprivilegedClone: read("kernel/unprivileged_userns_clone"),
                    apparmorRestrict: read("kernel/apparmor_restrict_unprivileged_userns"))
        }

        private static func read(_ name: String) -> Int? {
            FileDescriptor.readSystemText("/proc/sys/" + name).flatMap { Int($0.split(separator: "\n").first ?? "") }
        }
    }

    static let userNamespaces = "user namespaces"
    static let subordinateIDs = "subordinate ids"
    static let mappingHelpers = "newuidmap/newgidmap"

    public static func userNamespaceProblem(_ sysctls: Sysctls) -> Problem? {
        if sysctls.maxUserNamespaces == 0 {
            return Problem(check: userNamespaces, reason: "user.max_user_namespaces is 0", fix: "as root: sysctl -w user.max_user_namespaces=15000")
        }
        if sysctls.unprivilegedClone == 0 {
            return Problem(check: userNamespaces, reason: "kernel.unprivileged_userns_clone is 0", fix: "as root: sysctl -w kernel.unprivileged_userns_clone=1")
        }
        if sysctls.apparmorRestrict == 1 {
            return Problem(check: userNamespaces, reason: "kernel.apparmor_restrict_unprivileged_userns is 1 (AppArmor blocks unprivileged user namespaces)",
                           fix: "as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile allowing userns for devenv")
        }
        return nil
    }

    /// The sysctls' verdict, then, when they allow them, a real try (`creating`: 0 or the
    /// errno of creating a user namespace): a seccomp filter (a container's), a security
    /// module's policy or a parent namespace's limit can deny them where no sysctl here says so.
    public static func userNamespaceProblem(_ sysctls: Sysctls, creating: () -> Int32) -> Problem? {
        userNamespaceProblem(sysctls) ?? creationProblem(errno: creating())
    }

    /// What a failed try to create a user namespace means, and its fix (nil for 0).
    public static func creationProblem(errno code: Int32) -> Problem? {
        guard code != 0 else { return nil }
        let failed = "creating a user namespace fails with \(Errno.name(code))"
        let allow = "let this user create user namespaces: in a container, run it with a seccomp profile that permits clone and unshare with CLONE_NEWUSER; "
            + "else find the AppArmor or SELinux policy that denies them"
        switch SetupHint.UserNamespaceRefusal(errno: code) {
        case .restricted:
            return Problem(check: userNamespaces, reason: "\(failed) although the sysctls allow them: a seccomp filter (of a container devenv runs in?) or a security module denies them",
                           fix: allow)
        case .exhausted:
            return Problem(check: userNamespaces, reason: "\(failed): none are left (user.max_user_namespaces is 0 or used up, here or in a parent namespace)",
                           fix: "as root where it is 0 or reached (here, or on the host of a container devenv runs in): sysctl -w user.max_user_namespaces=15000")
        case .unsupported:
            return Problem(check: userNamespaces, reason: "\(failed): this kernel has no user namespaces", fix: "use a kernel built with CONFIG_USER_NS")
        case nil:
            return Problem(check: userNamespaces, reason: "\(failed) (\(Errno.message(code)))", fix: allow)
        }
    }

    /// Without ranges, container root would be the user alone and every other owner in an
    /// image unmapped: builds would fail later on the first chown, half done.
    public static func idMappingProblem(_ identity: HostIdentity) -> Problem? {
        guard !identity.isRoot else { return nil }
        let missing = [identity.subordinateUIDs.isEmpty ? "uids in /etc/subuid" : nil, identity.subordinateGIDs.isEmpty ? "gids in /etc/subgid" : nil].compactMap { $0 }
        if !missing.isEmpty {
            let name = Printable.escape(identity.name)
            return Problem(check: subordinateIDs, reason: "user '\(name)' has no subordinate \(missing.joined(separator: " and no subordinate ")) (container root and the other users of an image map to them)",
                           fix: "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(name) (a range no other user has)")
        }
        return identity.hasMappingHelpers ? nil : helpersMissing
    }

    static let helpersMissing = Problem(check: mappingHelpers, reason: "newuidmap/newgidmap are not installed (not on PATH; they map the subordinate ids)",
                                        fix: "as root: apt-get install uidmap")

    /// The first problem on this host for the calling user, or nil (always nil for root).
    /// `creating` is asked only when the sysctls allow user namespaces.
    public static func problem(identity: HostIdentity, sysctls: Sysctls, creating: () -> Int32) -> Problem? {
        guard !identity.isRoot else { return nil }
        return userNamespaceProblem(sysctls, creating: creating) ?? idMappingProblem(identity)
    }

    /// Throws the one clear error for a host where this user's devenv cannot build or start
    /// environments. Rootless it creates a user namespace to know (under 0.1 ms, in the full
    /// CLI only: the front end's fast paths never call this).
    public static func require(identity: HostIdentity = .current(), sysctls: @autoclosure () -> Sysctls = .current(),
                               creating: () -> Int32 = ProcessControl.userNamespaceCreationErrno) throws {
        guard !identity.isRoot, let problem = problem(identity: identity, sysctls: sysctls(), creating: creating) else { return }
        throw RuntimeError(.setup, "rootless devenv cannot build or start environments on this host: \(problem.reason)",
                           hint: "\(problem.fix); `devenv doctor` checks the rest")
    }
}
