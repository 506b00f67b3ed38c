/// `[services.NAME]`, and the references to services from `[shell]` and `[tasks]`.
extension ManifestValidator {
    static let serviceKeys = ["image", "command", "env", "ports", "volumes", "depends_on", "ready", "ready_timeout", "restart", "workdir"]

    mutating func readServices(_ entry: TOMLEntry) -> [Manifest.Service] {
        let path = FieldPath.root.key("services")
        guard let table = table(entry, path: path) else { return [] }
        var services: [Manifest.Service] = []
        for service in table.entries {
            if let problem = ValueRules.serviceNameProblem(service.key) {
                report("\(path): \(problem)", at: service.keyLocation, width: service.keyWidth)
                continue
            }
            if let definition = readService(service, path: path.key(service.key)) { services.append(definition) }
        }
        checkPorts(services)
        return services
    }

    private mutating func readService(_ entry: TOMLEntry, path: FieldPath) -> Manifest.Service? {
        guard let table = table(entry, path: path) else { return nil }
        checkKeys(table, allowed: Self.serviceKeys, context: "[services.\(TextEscaping.key(entry.key))]")
        var service = Manifest.Service(name: entry.key, location: entry.keyLocation)
        var valid = true
        func take<T>(_ key: String, _ read: (inout ManifestValidator, TOMLEntry, FieldPath) -> T?) -> T? {
            guard let item = table[key] else { return nil }
            let value = read(&self, item, path.key(key))
            if value == nil { valid = false }
            return value
        }
        service.image = take("image") { validator, item, path in
            validator.string(item, path: path).flatMap { validator.check($0, path: path, ValueRules.imageProblem) ? $0 : nil }
        }
        service.command = take("command") { $0.readCommand($1, path: $2) }
        service.env = take("env") { $0.environment($1, path: $2) } ?? []
        service.ports = take("ports") { $0.ports($1, path: $2) } ?? []
        service.volumes = take("volumes") { $0.serviceVolumes($1, path: $2) } ?? []
        service.dependsOn = take("depends_on") { $0.stringList($1, path: $2) } ?? []
        service.ready = take("ready") { $0.readCommand($1, path: $2) }
        service.readyTimeout = take("ready_timeout") { $0.seconds($1, path: $2) } ?? Manifest.Service.defaultReadyTimeout
        service.restart = take("restart") { $0.restart($1, path: $2) } ?? .no
        service.workdir = take("workdir") { $0.containerPath($1, at: $2, ValueRules.containerPathProblem) }
        if service.image == nil && service.command == nil && table["command"] == nil {
            report("\(path): give 'command' (a program of the project's environment image) or 'image' (a service image)", at: entry.keyLocation, width: entry.keyWidth)
            valid = false
        }
        return valid ? service : nil
    }

    private mutating func ports(_ entry: TOMLEntry, path: FieldPath) -> [Located<Int>]? {
        guard let items = entry.node.value.arrayValue else {
            wrongType(entry.node, path: path, expected: "an array of port numbers")
            return nil
        }
        var ports: [Located<Int>] = []
        for (offset, item) in items.enumerated() {
            guard case let .integer(value) = item.value else {
                wrongType(item, path: path.index(offset + 1), expected: "a port number")
                return nil
            }
            guard (1...65535).contains(value) else {
                report("expected a port number from 1 to 65535, found \(value)", path: path.index(offset + 1), at: item)
                return nil
            }
            if ports.contains(where: { $0.value == Int(value) }) {
                report("port \(value) is listed twice", path: path.index(offset + 1), at: item)
                return nil
            }
            ports.append(Located(Int(value), at: item.location, width: item.width))
        }
        return ports
    }

    private mutating func seconds(_ entry: TOMLEntry, path: FieldPath) -> Int? {
        guard case let .integer(value) = entry.node.value, (1...3600).contains(value) else {
            report("expected a number of seconds from 1 to 3600", path: path, at: entry.node)
            return nil
        }
        return Int(value)
    }

    private mutating func restart(_ entry: TOMLEntry, path: FieldPath) -> Manifest.Service.Restart? {
        guard let text = string(entry, path: path) else { return nil }
        guard let restart = Manifest.Service.Restart(rawValue: text.value) else {
            report("expected 'no', 'on-failure' or 'always', found \(ValueRules.quoted(text.value))", path: path, at: entry.node)
            return nil
        }
        return restart
    }

    /// `NAME:/path[:ro]` or `./dir:/path[:ro]`.
    private mutating func serviceVolumes(_ entry: TOMLEntry, path: FieldPath) -> [Manifest.ServiceVolume]? {
        guard let items = entry.node.value.arrayValue else {
            wrongType(entry.node, path: path, expected: "an array of \"NAME:/path\" or \"./dir:/path\"")
            return nil
        }
        var volumes: [Manifest.ServiceVolume] = []
        var targets: Set<String> = []
        for (offset, item) in items.enumerated() {
            let itemPath = path.index(offset + 1)
            guard let text = string(item, path: itemPath, limit: 2 * ValueRules.maxPathLength + 3) else { return nil }
            guard let volume = serviceVolume(text.value, path: itemPath, node: item) else { return nil }
            guard targets.insert(Self.normalized(volume.target)).inserted else {
                report("\(ValueRules.quoted(volume.target)) is mounted twice", path: itemPath, at: item)
                return nil
            }
            volumes.append(volume)
        }
        return volumes
    }

    private mutating func serviceVolume(_ text: String, path: FieldPath, node: TOMLNode) -> Manifest.ServiceVolume? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && (parts[2] == "ro" || parts[2] == "rw")) else {
            report("expected 'NAME:/path' (a named volume) or './dir:/path' (a working-tree directory), optionally ending in ':ro', found \(ValueRules.quoted(text))", path: path, at: node)
            return nil
        }
        if let problem = ValueRules.mountPointProblem(parts[1]) {
            report("container path \(problem)", path: path, at: node)
            return nil
        }
        let source: Manifest.ServiceVolume.Source
        if parts[0].hasPrefix(".") || parts[0].contains("/") {
            if let problem = ValueRules.projectPathProblem(parts[0]) {
                report("working-tree path \(problem)", path: path, at: node)
                return nil
            }
            source = .workingTree(parts[0])
        } else {
            if let problem = ValueRules.volumeNameProblem(parts[0]) {
                report(problem, path: path, at: node)
                return nil
            }
            source = .named(parts[0])
        }
        return Manifest.ServiceVolume(source: source, target: parts[1], readOnly: parts.count == 3 && parts[2] == "ro", location: node.location)
    }

    /// Two services cannot listen on one loopback port.
    private mutating func checkPorts(_ services: [Manifest.Service]) {
        var owners: [Int: String] = [:]
        for service in services {
            for port in service.ports {
                if let owner = owners[port.value] {
                    report("services.\(TextEscaping.key(service.name)).ports: port \(port.value) is already used by service '\(owner)'", at: port.location, width: port.width)
                } else {
                    owners[port.value] = service.name
                }
            }
        }
    }

    /// Every name in `depends_on`, `[shell] services` and a task's `services` is a service,
    /// and dependencies have no cycle.
    mutating func checkServiceReferences(_ services: [Manifest.Service], shell: Manifest.Shell, tasks: [Manifest.Task]) {
        let names = services.map(\.name)
        func check(_ references: [Located<String>], from path: String) {
            for reference in references where !names.contains(reference.value) {
                var message = "\(path): no service \(ValueRules.quoted(reference.value)) is defined"
                if let suggestion = Suggestion.closest(to: reference.value, among: names) { message += " (did you mean '\(suggestion)'?)" }
                else if names.isEmpty { message += " (define it as [services.\(TextEscaping.key(reference.value))])" }
                report(message, at: reference.location, width: reference.width)
            }
        }
        for service in services { check(service.dependsOn, from: "services.\(TextEscaping.key(service.name)).depends_on") }
        check(shell.services, from: "shell.services")
        for task in tasks { check(task.services, from: "tasks.\(TextEscaping.key(task.name)).services") }
        reportCycle(services)
    }

    private mutating func reportCycle(_ services: [Manifest.Service]) {
        let byName = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var state: [String: Bool] = [:] // false: on the current path; true: done
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if state[name] == true { return nil }
            if state[name] == false { return Array(path[path.firstIndex(of: name)!...]) + [name] }
            state[name] = false
            path.append(name)
            for dependency in byName[name]?.dependsOn ?? [] where byName[dependency.value] != nil {
                if let cycle = visit(dependency.value) { return cycle }
            }
            path.removeLast()
            state[name] = true
            return nil
        }
        for service in services {
            if let cycle = visit(service.name) {
                let location = byName[cycle[0]]?.dependsOn.first { $0.value == cycle[1] }?.location ?? service.location
                report("services: depends_on makes a cycle: \(cycle.joined(separator: " -> "))", at: location)
                return
            }
        }
    }
}
