/// Turns a parsed TOML table into a `Manifest`, collecting every schema error rather than
/// stopping at the first, so one run of `devenv build` shows everything to fix.
struct ManifestValidator {
    private(set) var diagnostics: [Diagnostic] = []

    static let topLevelKeys = ["base", "step", "shell", "tasks", "cache", "limits", "services"]
    /// Keys that belong one level down, for "did you mean to put it in [base]?".
    static let misplacedKeys: [String: String] = [
        "image": "[base]", "run": "[[step]]", "copy": "[[step]]", "packages": "[[step]]",
        "mount": "[shell]", "mounts": "[shell]", "registry": "[cache]",
        "memory": "[limits]", "pids": "[limits]", "cpus": "[limits]", "shm-size": "[limits]",
    ]

    /// The manifest, or nil when a required part is missing; `diagnostics` says why.
    mutating func validate(_ root: TOMLTable) -> Manifest? {
        checkKeys(root, allowed: Self.topLevelKeys, context: nil, misplaced: Self.misplacedKeys)
        let base = readBase(root["base"])
        let steps = root["step"].map { readSteps($0) } ?? []
        let shell = root["shell"].flatMap { readShell($0) } ?? Manifest.Shell()
        let tasks = root["tasks"].map { readTasks($0) } ?? []
        let cache = root["cache"].flatMap { readCache($0) }
        let limits = root["limits"].flatMap { readLimits($0) } ?? Manifest.Limits()
        let services = root["services"].map { readServices($0) } ?? []
        checkServiceReferences(services, shell: shell, tasks: tasks)
        diagnostics.sort { $0.location < $1.location }
        guard let base else { return nil }
        return Manifest(base: base, steps: steps, shell: shell, tasks: tasks, cache: cache, limits: limits, services: services)
    }

    // MARK: - [base] and [cache]

    private mutating func readBase(_ entry: TOMLEntry?) -> Manifest.Base? {
        guard let entry else {
            report("missing required table [base] (with image = \"NAME[:TAG]\" or distro = \"debian:bookworm\")", at: .start)
            return nil
        }
        let path = FieldPath.root.key("base")
        guard let table = table(entry, path: path) else { return nil }
        let dockerfileKeys = ["dockerfile", "context", "target", "args"]
        checkKeys(table, allowed: ["image", "distro"] + Self.distroOptions + dockerfileKeys, context: "[base]")
        let usesDistro = table["distro"] != nil || Self.distroOptions.contains { table[$0] != nil }
        if let dockerfile = dockerfileKeys.lazy.compactMap({ table[$0] }).first {
            if usesDistro {
                report("\(path): give only one of 'image', 'distro' or 'dockerfile'", at: dockerfile.keyLocation, width: dockerfile.keyWidth)
                return nil
            }
            return readDockerfileBase(table, path: path, node: entry.node)
        }
        if table["distro"] != nil || (table["image"] == nil && usesDistro) {
            return readDistroBase(table, entry: entry, path: path)
        }
        rejectDistroOptions(table, path: path)
        guard let imageEntry = table["image"] else {
            report("missing required key 'image' (or 'distro' or 'dockerfile')", path: path, at: entry.node)
            return nil
        }
        guard let image = string(imageEntry, path: path.key("image")) else { return nil }
        guard check(image, path: path.key("image"), ValueRules.imageProblem) else { return nil }
        return Manifest.Base(image: image, location: entry.node.location)
    }

    private mutating func readCache(_ entry: TOMLEntry) -> Manifest.Cache? {
        let path = FieldPath.root.key("cache")
        guard let table = table(entry, path: path) else { return nil }
        checkKeys(table, allowed: ["registry"], context: "[cache]")
        guard let registryEntry = required("registry", in: table, path: path, at: entry.node),
              let registry = string(registryEntry, path: path.key("registry")),
              check(registry, path: path.key("registry"), ValueRules.registryProblem) else { return nil }
        return Manifest.Cache(registry: registry, location: entry.node.location)
    }

    // MARK: - Reporting

    mutating func report(_ message: String, at location: SourceLocation, width: Int = 1) {
        diagnostics.append(Diagnostic(message, at: location, width: width))
    }

    mutating func report(_ reason: String, path: FieldPath, at node: TOMLNode) {
        report("\(path): \(reason)", at: node.location, width: node.width)
    }

    mutating func wrongType(_ node: TOMLNode, path: FieldPath, expected: String) {
        report("expected \(expected), found \(node.value.typeDescription)", path: path, at: node)
    }

    /// Reports keys of `table` not in `allowed`, suggesting the closest allowed key.
    /// `context` names the table in the message (`in [[step]]`); nil for the top level.
    mutating func checkKeys(_ table: TOMLTable, allowed: [String], context: String?, misplaced: [String: String] = [:]) {
        for entry in table.entries where !allowed.contains(entry.key) {
            var message = "unknown key \(ValueRules.quoted(entry.key))"
            if let context { message += " in \(context)" }
            if let suggestion = Suggestion.closest(to: entry.key, among: allowed) {
                message += " (did you mean '\(suggestion)'?)"
            } else if let key = misplaced[entry.key] != nil ? entry.key : Suggestion.closest(to: entry.key, among: Array(misplaced.keys).sorted()),
                      let home = misplaced[key] {
                message += key == entry.key ? " (did you mean to put it in \(home)?)" : " (did you mean '\(key)' in \(home)?)"
            }
            report(message, at: entry.keyLocation, width: entry.keyWidth)
        }
    }

    // MARK: - Typed access

    mutating func required(_ key: String, in table: TOMLTable, path: FieldPath, at node: TOMLNode) -> TOMLEntry? {
        if let entry = table[key] { return entry }
        report("missing required key '\(key)'", path: path, at: node)
        return nil
    }

    mutating func table(_ entry: TOMLEntry, path: FieldPath) -> TOMLTable? {
        guard let table = entry.node.value.tableValue else {
            wrongType(entry.node, path: path, expected: "a table")
            return nil
        }
        return table
    }

    /// A string value, checked for NUL and length.
    mutating func string(_ entry: TOMLEntry, path: FieldPath, limit: Int = ValueRules.maxArgumentLength) -> Located<String>? {
        string(entry.node, path: path, limit: limit)
    }

    mutating func string(_ node: TOMLNode, path: FieldPath, limit: Int = ValueRules.maxArgumentLength) -> Located<String>? {
        guard let text = node.value.stringValue else {
            wrongType(node, path: path, expected: "a string")
            return nil
        }
        if let problem = ValueRules.textProblem(text, limit: limit) {
            report(problem, path: path, at: node)
            return nil
        }
        return Located(text, at: node.location, width: node.width)
    }

    /// A string or an array of strings (at least one), each element checked.
    mutating func stringList(_ entry: TOMLEntry, path: FieldPath) -> [Located<String>]? {
        switch entry.node.value {
        case .string:
            return string(entry, path: path).map { [$0] }
        case let .array(items):
            if items.isEmpty {
                report("must not be empty", path: path, at: entry.node)
                return nil
            }
            var strings: [Located<String>] = []
            var failed = false
            for (offset, item) in items.enumerated() {
                if let text = string(item, path: path.index(offset + 1)) { strings.append(text) } else { failed = true }
            }
            return failed ? nil : strings
        default:
            wrongType(entry.node, path: path, expected: "a string or an array of strings")
            return nil
        }
    }

    /// Applies a rule; reports and returns false when it fails.
    mutating func check(_ value: Located<String>, path: FieldPath, _ rule: (String) -> String?) -> Bool {
        guard let problem = rule(value.value) else { return true }
        report("\(path): \(problem)", at: value.location, width: value.width)
        return false
    }

    /// `allowed`: what the key takes (`private` is the shell's alone: a build step has no project network).
    mutating func network(_ entry: TOMLEntry, path: FieldPath, allowed: [Manifest.Network] = [.host, .none]) -> Manifest.Network? {
        guard let text = string(entry, path: path) else { return nil }
        guard let network = Manifest.Network(rawValue: text.value), allowed.contains(network) else {
            let names = allowed.map { "'\($0.rawValue)'" }
            report("expected \(names.dropLast().joined(separator: ", ")) or \(names.last ?? ""), found \(ValueRules.quoted(text.value))", path: path, at: entry.node)
            return nil
        }
        return network
    }

    /// A command: a string for `/bin/sh -c`, or a non-empty argv.
    mutating func readCommand(_ entry: TOMLEntry, path: FieldPath) -> Located<Manifest.Command>? {
        let node = entry.node
        switch node.value {
        case .string:
            guard let script = string(entry, path: path) else { return nil }
            if script.value.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
                report("must not be empty", path: path, at: node)
                return nil
            }
            return Located(.shell(script.value), at: node.location, width: node.width)
        case .array:
            guard let arguments = stringList(entry, path: path) else { return nil }
            if arguments[0].value.isEmpty {
                report("the program name must not be empty", path: path.index(1), at: TOMLNode(.string(""), at: arguments[0].location, width: arguments[0].width))
                return nil
            }
            return Located(.argv(arguments.map(\.value)), at: node.location, width: node.width)
        default:
            wrongType(node, path: path, expected: "a string or an array of strings")
            return nil
        }
    }

    /// An `env` table: every value a string, every name safe for execve.
    mutating func environment(_ entry: TOMLEntry, path: FieldPath) -> [Manifest.EnvironmentVariable]? {
        guard let table = table(entry, path: path) else { return nil }
        var variables: [Manifest.EnvironmentVariable] = []
        var failed = false
        for variable in table.entries {
            let variablePath = path.key(variable.key)
            if let problem = ValueRules.variableNameProblem(variable.key) {
                report("\(path): \(problem)", at: variable.keyLocation, width: variable.keyWidth)
                failed = true
                continue
            }
            guard let value = string(variable, path: variablePath) else {
                failed = true
                continue
            }
            variables.append(Manifest.EnvironmentVariable(name: variable.key, value: value.value, location: variable.keyLocation))
        }
        return failed ? nil : variables
    }
}
