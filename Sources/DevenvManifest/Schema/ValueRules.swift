/// Checks of individual values. Each returns nil when the value is
/// acceptable, or the reason it is not, phrased to follow `key.path: `.
enum ValueRules {
    /// Linux `PATH_MAX` minus the terminating NUL.
    static let maxPathLength = 4095
    /// Linux `MAX_ARG_STRLEN` minus the terminating NUL: the longest single argument or
    /// environment string execve accepts.
    static let maxArgumentLength = 131_071

    static func quoted(_ text: String) -> String {
        "'" + TextEscaping.escape(text, limit: 64) + "'"
    }

    /// Any string: no NUL (it would truncate the value at the kernel boundary).
    static func textProblem(_ text: String, limit: Int = maxArgumentLength) -> String? {
        if text.utf8.contains(0) { return "must not contain NUL characters" }
        if text.utf8.count > limit { return "is \(text.utf8.count) bytes long, over the limit of \(limit) bytes" }
        return nil
    }

    /// An absolute path inside the container, without `..` (so it cannot be read as
    /// climbing out of anything, whatever the builder's resolution rules).
    static func containerPathProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if let problem = textProblem(path, limit: maxPathLength) { return problem }
        if !path.hasPrefix("/") { return "must be an absolute path, found \(quoted(path))" }
        if components(path).contains("..") { return "must not contain '..', found \(quoted(path))" }
        return nil
    }

    /// A mount target: a container path other than `/` itself.
    static func mountPointProblem(_ path: String) -> String? {
        if let problem = containerPathProblem(path) { return problem }
        if components(path).allSatisfy({ $0.isEmpty || $0 == "." }) { return "cannot be the container's root directory" }
        return nil
    }

    /// A copy source: relative to the project directory and unable to leave it lexically.
    /// (Symlinks inside the project are the Kit layer's concern: it resolves beneath the
    /// project root.)
    static func projectPathProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if let problem = textProblem(path, limit: maxPathLength) { return problem }
        if path.hasPrefix("/") { return "must be relative to the project directory, found \(quoted(path))" }
        if components(path).contains("..") { return "must not leave the project directory, found \(quoted(path))" }
        return nil
    }

    /// A host path for a bind mount: absolute or under `~`.
    static func hostPath(_ path: String) -> Result<Manifest.HostPath, RuleError> {
        if path.isEmpty { return .failure(RuleError("must not be empty")) }
        if let problem = textProblem(path, limit: maxPathLength) { return .failure(RuleError(problem)) }
        if components(path).contains("..") { return .failure(RuleError("must not contain '..', found \(quoted(path))")) }
        if path == "~" { return .success(.home("")) }
        if path.hasPrefix("~/") { return .success(.home(String(path.dropFirst(2)))) }
        if path.hasPrefix("/") { return .success(.absolute(path)) }
        return .failure(RuleError("must be an absolute path or start with '~/', found \(quoted(path))"))
    }

    /// A `[shell] dotfiles` entry: `~/REST` naming something below the home (not the home
    /// itself), without `..`; the result is REST without empty or `.` components.
    static func dotfile(_ path: String) -> Result<String, RuleError> {
        if let problem = textProblem(path, limit: maxPathLength) { return .failure(RuleError(problem)) }
        guard path.hasPrefix("~/") else {
            return .failure(RuleError("must be a path under your home directory, starting with '~/', found \(quoted(path))"))
        }
        let parts = components(String(path.dropFirst(2))).filter { !$0.isEmpty && $0 != "." }
        if parts.contains("..") { return .failure(RuleError("must not contain '..', found \(quoted(path))")) }
        if parts.isEmpty { return .failure(RuleError("must name a file or directory under '~', not the home directory itself")) }
        return .success(parts.joined(separator: "/"))
    }

    /// An environment variable name: not empty, no `=` (it would split differently than
    /// written), no NUL, no control characters or whitespace.
    static func variableNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "variable name must not be empty" }
        if name.utf8.contains(UInt8(ascii: "=")) { return "variable name \(quoted(name)) must not contain '='" }
        if name.utf8.contains(0) { return "variable name \(quoted(name)) must not contain NUL characters" }
        if name.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }) {
            return "variable name \(quoted(name)) must not contain whitespace or control characters"
        }
        return nil
    }

    /// `name`, `uid`, `uid:gid`, `name:group`, `name:gid`, `uid:group`.
    static func user(_ text: String) -> Result<Manifest.User, RuleError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let failure = RuleError("invalid user \(quoted(text)): expected NAME, UID, UID:GID or NAME:GROUP, where names use letters, digits, '_', '.' and '-' and do not start with '-'")
        guard parts.count <= 2 else { return .failure(failure) }
        guard let user = identity(parts[0]) else { return .failure(failure) }
        if parts.count == 1 { return .success(Manifest.User(user: user)) }
        guard let group = identity(parts[1]) else { return .failure(failure) }
        return .success(Manifest.User(user: user, group: group))
    }

    private static func identity(_ text: String) -> Manifest.User.Identity? {
        if !text.isEmpty && text.utf8.allSatisfy(TOMLSyntax.isDigit) {
            // 4294967295 is (uid_t)-1, which the kernel treats as "no change".
            guard text.utf8.count <= 10, let number = UInt32(text), number != UInt32.max else { return nil }
            return .id(number)
        }
        guard let first = text.utf8.first, text.utf8.count <= 32,
              TOMLSyntax.isLetter(first) || first == TOMLSyntax.underscore else { return nil }
        let allowed = text.utf8.allSatisfy { TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || $0 == TOMLSyntax.underscore || $0 == TOMLSyntax.dot || $0 == TOMLSyntax.minus }
        return allowed ? .name(text) : nil
    }

    /// A package name with an optional version or architecture (`git`, `libc6:amd64`,
    /// `python3=3.11.2-1`). Starting with a letter or digit keeps it from being read as an
    /// option by the package manager.
    static func packageProblem(_ name: String) -> String? {
        guard let first = name.utf8.first, TOMLSyntax.isLetter(first) || TOMLSyntax.isDigit(first), name.utf8.count <= 256,
              name.utf8.allSatisfy({ TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || "+._:=~-".utf8.contains($0) }) else {
            return "invalid package name \(quoted(name)): use letters, digits and '+._:=~-', starting with a letter or digit"
        }
        return nil
    }

    /// A build secret's id: it names /run/secrets/ID, so one path component.
    static func secretIDProblem(_ id: String) -> String? {
        guard id.utf8.count <= 64, id != ".", id != "..",
              id.utf8.allSatisfy({ TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || "._-".utf8.contains($0) }) else {
            return "invalid secret id \(quoted(id)): use at most 64 letters, digits and '._-'"
        }
        return nil
    }

    /// A task name as typed after `devenv run`.
    static func taskNameProblem(_ name: String) -> String? {
        guard let first = name.utf8.first, TOMLSyntax.isLetter(first) || TOMLSyntax.isDigit(first) || first == TOMLSyntax.underscore,
              name.utf8.count <= 64,
              name.utf8.allSatisfy({ TOMLSyntax.isBareKeyByte($0) || $0 == TOMLSyntax.dot || $0 == TOMLSyntax.colon }) else {
            return "invalid task name \(quoted(name)): use letters, digits and '_-.:', starting with a letter, digit or '_'"
        }
        return nil
    }

    /// A device as `--device` takes it: `/dev/HOST[:/dev/CONTAINER][:PERMISSIONS]` (read and
    /// write granted: narrower cannot be enforced) or a CDI name `vendor.com/class=name`.
    static func deviceProblem(_ text: String) -> String? {
        if !text.hasPrefix("/") {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[1].isEmpty, parts[0].split(separator: "/").count == 2, !parts[0].hasSuffix("/") else {
                return "expected '/dev/HOST[:/dev/CONTAINER][:rwm]' or a CDI device name 'vendor.com/class=name', found \(quoted(text))"
            }
            return nil
        }
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, let last = parts.last, !last.isEmpty, last.allSatisfy({ "rwm".contains($0) }) {
            guard last.contains("r") && last.contains("w") else {
                return "device permissions must include 'r' and 'w' (narrower ones cannot be enforced), found \(quoted(text))"
            }
            parts.removeLast()
        }
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.hasPrefix("/") && !components($0).contains("..") }) else {
            return "expected '/dev/HOST[:/dev/CONTAINER][:rwm]', found \(quoted(text))"
        }
        return nil
    }

    /// A service name: a directory and file name under the store, a host name in the pod.
    static func serviceNameProblem(_ name: String) -> String? {
        guard let first = name.utf8.first, TOMLSyntax.isLetter(first) || TOMLSyntax.isDigit(first), name.utf8.count <= 63,
              name.utf8.allSatisfy({ TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || $0 == UInt8(ascii: "-") }) else {
            return "invalid service name \(quoted(name)): use at most 63 letters, digits and '-', starting with a letter or digit"
        }
        return nil
    }

    /// A named volume: one directory under the project's store.
    static func volumeNameProblem(_ name: String) -> String? {
        guard let first = name.utf8.first, TOMLSyntax.isLetter(first) || TOMLSyntax.isDigit(first), name.utf8.count <= 64,
              name.utf8.allSatisfy({ TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || "._-".utf8.contains($0) }) else {
            return "invalid volume name \(quoted(name)): use at most 64 letters, digits and '._-', starting with a letter or digit (a working-tree directory starts with './')"
        }
        return nil
    }

    /// A light syntactic check of an image reference; the Kit layer does the full parse.
    /// The digest part is held to the OCI grammar here already, so `x@sha256:../../y`
    /// never reaches anything that might build a path from it.
    static func imageProblem(_ reference: String) -> String? {
        if let problem = referenceCharactersProblem(reference, what: "image reference") { return problem }
        let pieces = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        if pieces[0].isEmpty { return "invalid image reference \(quoted(reference)): missing the image name" }
        if pieces.count == 2 && !isDigest(pieces[1]) {
            return "invalid image reference \(quoted(reference)): the digest must look like 'sha256:' followed by hexadecimal digits"
        }
        return nil
    }

    /// A registry repository for the build cache (no tag or digest).
    static func registryProblem(_ repository: String) -> String? {
        if let problem = referenceCharactersProblem(repository, what: "registry repository") { return problem }
        if repository.utf8.contains(UInt8(ascii: "@")) {
            return "invalid registry repository \(quoted(repository)): must not contain a digest"
        }
        return nil
    }

    private static func referenceCharactersProblem(_ text: String, what: String) -> String? {
        guard !text.isEmpty else { return "\(what) must not be empty" }
        guard text.utf8.count <= 512 else { return "\(what) is longer than 512 bytes" }
        let allowed = text.utf8.allSatisfy { TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || "._-/:@+=".utf8.contains($0) }
        guard allowed, let first = text.utf8.first, TOMLSyntax.isLetter(first) || TOMLSyntax.isDigit(first) else {
            return "invalid \(what) \(quoted(text)): expected NAME[:TAG][@DIGEST] with letters, digits and '._-/:@'"
        }
        return nil
    }

    /// `algorithm:encoded` per the OCI image spec's digest grammar.
    private static func isDigest(_ text: Substring) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        let algorithmOK = parts[0].utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || TOMLSyntax.isDigit($0) || "+._-".utf8.contains($0) }
        let encodedOK = parts[1].utf8.allSatisfy { TOMLSyntax.isLetter($0) || TOMLSyntax.isDigit($0) || "=_-".utf8.contains($0) }
        return algorithmOK && encodedOK
    }

    static func components(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: false)
    }
}

/// Why a value was rejected; used only inside the validator.
struct RuleError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
