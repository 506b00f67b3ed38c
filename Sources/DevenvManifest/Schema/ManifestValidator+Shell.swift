/// `[shell]` and `[tasks]`.
extension ManifestValidator {
    static let shellKeys = ["workdir", "mount", "shell", "env", "network", "mounts", "env_file", "ssh_agent", "git_identity", "services", "devices", "dotfiles", "home"]
    static let taskKeys = ["run", "workdir", "env", "description", "services"]

    mutating func readShell(_ entry: TOMLEntry) -> Manifest.Shell? {
        let path = FieldPath.root.key("shell")
        guard let table = table(entry, path: path) else { return nil }
        checkKeys(table, allowed: Self.shellKeys, context: "[shell]")
        var shell = Manifest.Shell(location: entry.node.location)
        shell.mount = table["mount"].flatMap { containerPath($0, at: path.key("mount"), ValueRules.mountPointProblem) }
        shell.workdir = table["workdir"].flatMap { containerPath($0, at: path.key("workdir"), ValueRules.containerPathProblem) }
        shell.shell = table["shell"].flatMap { containerPath($0, at: path.key("shell"), ValueRules.containerPathProblem) }
        shell.env = table["env"].flatMap { environment($0, path: path.key("env")) } ?? []
        shell.network = table["network"].flatMap { network($0, path: path.key("network"), allowed: Manifest.Network.allCases) }
        shell.mounts = table["mounts"].map { mounts($0, path: path.key("mounts"), workingTree: shell.mountPoint) } ?? []
        shell.envFile = table["env_file"].flatMap { containerPath($0, at: path.key("env_file"), ValueRules.projectPathProblem) }
        shell.sshAgent = table["ssh_agent"].flatMap { boolean($0, path: path.key("ssh_agent")) } ?? true
        shell.gitIdentity = table["git_identity"].flatMap { boolean($0, path: path.key("git_identity")) } ?? true
        shell.services = table["services"].flatMap { stringList($0, path: path.key("services")) } ?? []
        shell.devices = (table["devices"].flatMap { stringList($0, path: path.key("devices")) } ?? []).filter { device in
            check(device, path: path.key("devices"), ValueRules.deviceProblem)
        }
        shell.dotfiles = table["dotfiles"].map { dotfiles($0, path: path.key("dotfiles")) } ?? []
        shell.home = table["home"].flatMap { home($0, path: path.key("home")) } ?? .ephemeral
        return shell
    }

    /// Each entry under `~`, once: an entry inside another would bind onto the read-only
    /// bind of its parent. A string, or `{ path = "~/…", writable = true }`.
    private mutating func dotfiles(_ entry: TOMLEntry, path: FieldPath) -> [Manifest.Dotfile] {
        guard let items = entry.node.value.arrayValue else {
            wrongType(entry.node, path: path, expected: "an array")
            return []
        }
        var accepted: [Manifest.Dotfile] = []
        for (offset, node) in items.enumerated() {
            let itemPath = path.index(offset + 1)
            guard let (item, writable) = dotfileEntry(node, path: itemPath) else { continue }
            let relative: String
            switch ValueRules.dotfile(item.value) {
            case let .success(value): relative = value
            case let .failure(error):
                report("\(itemPath): \(error.reason)", at: item.location, width: item.width)
                continue
            }
            if let earlier = accepted.first(where: { $0.relativePath == relative || relative.hasPrefix($0.relativePath + "/") || $0.relativePath.hasPrefix(relative + "/") }) {
                let how = earlier.relativePath == relative ? "is listed already" : "overlaps"
                report("\(itemPath): \(ValueRules.quoted(item.value)) \(how) as \(ValueRules.quoted(earlier.written.value)) (an entry inside another would be bound onto its read-only parent)",
                       at: item.location, width: item.width)
                continue
            }
            accepted.append(Manifest.Dotfile(relativePath: relative, written: item, writable: writable))
        }
        return accepted
    }

    private mutating func dotfileEntry(_ node: TOMLNode, path: FieldPath) -> (Located<String>, Bool)? {
        switch node.value {
        case .string:
            return string(node, path: path).map { ($0, false) }
        case let .table(table):
            checkKeys(table, allowed: ["path", "writable"], context: "\(path)")
            guard let pathEntry = required("path", in: table, path: path, at: node), let text = string(pathEntry.node, path: path.key("path")) else { return nil }
            guard let flag = table["writable"] else { return (text, false) }
            return boolean(flag, path: path.key("writable")).map { (text, $0) }
        default:
            wrongType(node, path: path, expected: "a string or a table")
            return nil
        }
    }

    private mutating func home(_ entry: TOMLEntry, path: FieldPath) -> Manifest.Home? {
        guard let text = string(entry, path: path) else { return nil }
        guard let home = Manifest.Home(rawValue: text.value) else {
            report("expected 'ephemeral' or 'persistent', found \(ValueRules.quoted(text.value))", path: path, at: entry.node)
            return nil
        }
        return home
    }

    mutating func boolean(_ entry: TOMLEntry, path: FieldPath) -> Bool? {
        guard case let .boolean(value) = entry.node.value else {
            wrongType(entry.node, path: path, expected: "a boolean")
            return nil
        }
        return value
    }

    mutating func containerPath(_ entry: TOMLEntry, at path: FieldPath, _ rule: (String) -> String?) -> Located<String>? {
        guard let text = string(entry, path: path, limit: ValueRules.maxPathLength), check(text, path: path, rule) else { return nil }
        return text
    }

    // MARK: - mounts

    private mutating func mounts(_ entry: TOMLEntry, path: FieldPath, workingTree: String) -> [Manifest.Mount] {
        guard let items = entry.node.value.arrayValue else {
            wrongType(entry.node, path: path, expected: "an array")
            return []
        }
        var mounts: [Manifest.Mount] = []
        var targets: [String: FieldPath] = [Self.normalized(workingTree): FieldPath.root.key("shell").key("mount")]
        for (offset, item) in items.enumerated() {
            let itemPath = path.index(offset + 1)
            guard let mount = mount(item, path: itemPath) else { continue }
            let target = Self.normalized(mount.target)
            if let previous = targets[target] {
                report("\(ValueRules.quoted(mount.target)) is already mounted by \(previous)", path: itemPath, at: item)
                continue
            }
            targets[target] = itemPath
            mounts.append(mount)
        }
        return mounts
    }

    /// `"host:container[:ro|:rw]"`, or `{ host = "...", container = "...", readonly = true }`
    /// for paths that contain ':'.
    private mutating func mount(_ node: TOMLNode, path: FieldPath) -> Manifest.Mount? {
        switch node.value {
        case let .string(text):
            guard string(node, path: path, limit: 2 * ValueRules.maxPathLength + 3) != nil else { return nil }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || (parts.count == 3 && (parts[2] == "ro" || parts[2] == "rw")) else {
                report("expected 'HOST:CONTAINER' or 'HOST:CONTAINER:ro', found \(ValueRules.quoted(text)) (for paths containing ':' write { host = \"...\", container = \"...\" })", path: path, at: node)
                return nil
            }
            return mount(host: parts[0], container: parts[1], readOnly: parts.count == 3 && parts[2] == "ro", path: path, node: node)
        case let .table(table):
            checkKeys(table, allowed: ["host", "container", "readonly"], context: "\(path)")
            guard let hostEntry = required("host", in: table, path: path, at: node),
                  let containerEntry = required("container", in: table, path: path, at: node),
                  let host = string(hostEntry, path: path.key("host"), limit: ValueRules.maxPathLength),
                  let container = string(containerEntry, path: path.key("container"), limit: ValueRules.maxPathLength) else { return nil }
            var readOnly = false
            if let flag = table["readonly"] {
                guard case let .boolean(value) = flag.node.value else {
                    wrongType(flag.node, path: path.key("readonly"), expected: "a boolean")
                    return nil
                }
                readOnly = value
            }
            return mount(host: host.value, container: container.value, readOnly: readOnly, path: path, node: node)
        default:
            wrongType(node, path: path, expected: "a string or a table")
            return nil
        }
    }

    private mutating func mount(host: String, container: String, readOnly: Bool, path: FieldPath, node: TOMLNode) -> Manifest.Mount? {
        var valid = true
        let source: Manifest.HostPath?
        switch ValueRules.hostPath(host) {
        case let .success(hostPath):
            source = hostPath
        case let .failure(error):
            report("host path \(error.reason)", path: path, at: node)
            source = nil
        }
        if let problem = ValueRules.mountPointProblem(container) {
            report("container path \(problem)", path: path, at: node)
            valid = false
        }
        guard valid, let source else { return nil }
        return Manifest.Mount(source: source, target: container, readOnly: readOnly, location: node.location)
    }

    /// `/data/` and `/data` name the same mount point.
    static func normalized(_ path: String) -> String {
        "/" + ValueRules.components(path).filter { !$0.isEmpty && $0 != "." }.joined(separator: "/")
    }

    // MARK: - [tasks]

    mutating func readTasks(_ entry: TOMLEntry) -> [Manifest.Task] {
        let path = FieldPath.root.key("tasks")
        guard let table = table(entry, path: path) else { return [] }
        var tasks: [Manifest.Task] = []
        for task in table.entries {
            let taskPath = path.key(task.key)
            if let problem = ValueRules.taskNameProblem(task.key) {
                report("\(path): \(problem)", at: task.keyLocation, width: task.keyWidth)
                continue
            }
            if let definition = readTask(task, path: taskPath) { tasks.append(definition) }
        }
        return tasks
    }

    private mutating func readTask(_ entry: TOMLEntry, path: FieldPath) -> Manifest.Task? {
        switch entry.node.value {
        case .string, .array:
            return readCommand(entry, path: path).map { Manifest.Task(name: entry.key, command: $0, location: entry.keyLocation) }
        case let .table(table):
            checkKeys(table, allowed: Self.taskKeys, context: "[tasks.\(TextEscaping.key(entry.key))]")
            let runEntry = required("run", in: table, path: path, at: entry.node)
            let command = runEntry.flatMap { readCommand($0, path: path.key("run")) }
            let workdir = table["workdir"].flatMap { containerPath($0, at: path.key("workdir"), ValueRules.containerPathProblem) }
            let workdirValid = table["workdir"] == nil || workdir != nil
            let env = table["env"].map { environment($0, path: path.key("env")) } ?? []
            let description = table["description"].flatMap { string($0, path: path.key("description")) }
            guard let command, workdirValid, let env, table["description"] == nil || description != nil else { return nil }
            var task = Manifest.Task(name: entry.key, command: command, workdir: workdir, env: env, location: entry.keyLocation)
            task.description = description?.value
            task.services = table["services"].flatMap { stringList($0, path: path.key("services")) } ?? []
            return task
        default:
            wrongType(entry.node, path: path, expected: "a string, an array of strings or a table")
            return nil
        }
    }
}
