/// `[[step]]`: exactly one action per step, plus the modifiers that action allows.
extension ManifestValidator {
    static let stepActions = ["run", "copy", "env", "workdir", "user", "packages"]
    /// Modifier key -> the action it belongs to.
    static let stepModifiers = ["cache": "run", "network": "run", "secrets": "run", "to": "copy", "layers": "packages"]
    /// `layers`: at least 1 (one layer for the step), at most 100 of the 125 an image may have.
    static let packageLayerLimits = 1...100

    mutating func readSteps(_ entry: TOMLEntry) -> [Manifest.Step] {
        let path = FieldPath.root.key("step")
        guard let items = entry.node.value.arrayValue else {
            wrongType(entry.node, path: path, expected: "an array of tables ([[step]])")
            return []
        }
        var steps: [Manifest.Step] = []
        for (offset, item) in items.enumerated() {
            let stepPath = path.index(offset + 1)
            guard let table = item.value.tableValue else {
                wrongType(item, path: stepPath, expected: "a table")
                continue
            }
            if let step = step(table, number: offset + 1, node: item, path: stepPath) { steps.append(step) }
        }
        return steps
    }

    private mutating func step(_ table: TOMLTable, number: Int, node: TOMLNode, path: FieldPath) -> Manifest.Step? {
        checkKeys(table, allowed: Self.stepActions + Array(Self.stepModifiers.keys).sorted(), context: "[[step]]")
        let actions = table.entries.filter { Self.stepActions.contains($0.key) }
        guard let actionEntry = actions.first else {
            report("a step needs one of \(Self.listing(Self.stepActions, conjunction: "or"))", path: path, at: node)
            return nil
        }
        if actions.count > 1 {
            let second = actions[1]
            report("\(path): a step must have exactly one of \(Self.listing(Self.stepActions, conjunction: "or")), found \(Self.listing(actions.map(\.key), conjunction: "and")) (write one [[step]] for each)",
                   at: second.keyLocation, width: second.keyWidth)
        }
        for entry in table.entries where actions.count == 1 {
            guard let owner = Self.stepModifiers[entry.key], owner != actionEntry.key else { continue }
            report("\(path.key(entry.key)): '\(entry.key)' is only valid in a '\(owner)' step", at: entry.keyLocation, width: entry.keyWidth)
        }
        let layers = table["layers"].flatMap { layerLimit($0, path: path.key("layers")) }
        guard let action = action(actionEntry, in: table, path: path), actions.count == 1 else { return nil }
        if table["layers"] != nil, layers == nil { return nil }
        return Manifest.Step(number: number, location: node.location, action: action, layers: layers)
    }

    private mutating func action(_ entry: TOMLEntry, in table: TOMLTable, path: FieldPath) -> Manifest.Step.Action? {
        let actionPath = path.key(entry.key)
        switch entry.key {
        case "run":
            return run(entry, in: table, path: path).map { .run($0) }
        case "copy":
            return copy(entry, in: table, path: path).map { .copy($0) }
        case "env":
            guard let variables = environment(entry, path: actionPath) else { return nil }
            if variables.isEmpty {
                report("must set at least one variable", path: actionPath, at: entry.node)
                return nil
            }
            return .env(variables)
        case "workdir":
            guard let directory = string(entry, path: actionPath, limit: ValueRules.maxPathLength),
                  check(directory, path: actionPath, ValueRules.containerPathProblem) else { return nil }
            return .workdir(directory)
        case "user":
            guard let text = string(entry, path: actionPath) else { return nil }
            switch ValueRules.user(text.value) {
            case let .success(user):
                return .user(Located(user, at: text.location, width: text.width))
            case let .failure(error):
                report(error.reason, path: actionPath, at: entry.node)
                return nil
            }
        default:
            guard let names = stringList(entry, path: actionPath) else { return nil }
            var valid = true
            for (offset, name) in names.enumerated() {
                let namePath = entry.node.value.arrayValue == nil ? actionPath : actionPath.index(offset + 1)
                valid = check(name, path: namePath, ValueRules.packageProblem) && valid
            }
            return valid ? .packages(names) : nil
        }
    }

    /// `layers = N` (of a `packages` step, or of a distro base): an integer in `packageLayerLimits`.
    mutating func layerLimit(_ entry: TOMLEntry, path: FieldPath, of what: String = "this step") -> Located<Int>? {
        guard case let .integer(value) = entry.node.value else {
            wrongType(entry.node, path: path, expected: "an integer")
            return nil
        }
        guard let limit = Int(exactly: value), Self.packageLayerLimits.contains(limit) else {
            report("must be from \(Self.packageLayerLimits.lowerBound) to \(Self.packageLayerLimits.upperBound) (layers of \(what); an image has at most 125)",
                   path: path, at: entry.node)
            return nil
        }
        return Located(limit, at: entry.node.location, width: entry.node.width)
    }

    private mutating func run(_ entry: TOMLEntry, in table: TOMLTable, path: FieldPath) -> Manifest.Step.Run? {
        let command = readCommand(entry, path: path.key("run"))
        var cache: [Located<String>] = []
        var valid = command != nil
        if let cacheEntry = table["cache"] {
            let cachePath = path.key("cache")
            if let paths = stringList(cacheEntry, path: cachePath) {
                for (offset, directory) in paths.enumerated() {
                    let itemPath = cacheEntry.node.value.arrayValue == nil ? cachePath : cachePath.index(offset + 1)
                    valid = check(directory, path: itemPath, ValueRules.mountPointProblem) && valid
                }
                cache = paths
            } else {
                valid = false
            }
        }
        var network: Manifest.Network?
        if let networkEntry = table["network"] {
            network = self.network(networkEntry, path: path.key("network"))
            valid = network != nil && valid
        }
        var secrets: [Manifest.Step.Secret] = []
        if let secretsEntry = table["secrets"] {
            let read = self.secrets(secretsEntry, path: path.key("secrets"))
            secrets = read ?? []
            valid = read != nil && valid
        }
        guard valid, let command else { return nil }
        var run = Manifest.Step.Run(command: command, cache: cache, network: network)
        run.secrets = secrets
        return run
    }

    private mutating func copy(_ entry: TOMLEntry, in table: TOMLTable, path: FieldPath) -> Manifest.Step.Copy? {
        let copyPath = path.key("copy")
        var valid = true
        let sources = stringList(entry, path: copyPath)
        for (offset, source) in (sources ?? []).enumerated() {
            let itemPath = entry.node.value.arrayValue == nil ? copyPath : copyPath.index(offset + 1)
            valid = check(source, path: itemPath, ValueRules.projectPathProblem) && valid
        }
        var destination: Located<String>?
        if let toEntry = table["to"] {
            let toPath = path.key("to")
            destination = string(toEntry, path: toPath, limit: ValueRules.maxPathLength)
            if let target = destination {
                valid = check(target, path: toPath, ValueRules.containerPathProblem) && valid
                if let count = sources?.count, count > 1, !target.value.hasSuffix("/") {
                    report("must end with '/' when copying several sources", path: toPath, at: toEntry.node)
                    valid = false
                }
            } else {
                valid = false
            }
        }
        guard valid, let sources else { return nil }
        return Manifest.Step.Copy(sources: sources, destination: destination)
    }

    /// `'a', 'b' or 'c'`
    static func listing(_ words: [String], conjunction: String) -> String {
        let quoted = words.map { "'\($0)'" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " \(conjunction) " + quoted[quoted.count - 1]
    }
}
