/// A run step's `secrets = ["id=npmrc,src=~/.npmrc", …]`, as BuildKit spells `--secret`.
extension ManifestValidator {
    static let secretFields = ["id", "src", "target", "env", "uid", "gid", "mode"]

    mutating func secrets(_ entry: TOMLEntry, path: FieldPath) -> [Manifest.Step.Secret]? {
        guard let items = stringList(entry, path: path) else { return nil }
        var secrets: [Manifest.Step.Secret] = []
        var valid = true
        for (offset, item) in items.enumerated() {
            let itemPath = entry.node.value.arrayValue == nil ? path : path.index(offset + 1)
            if let secret = secret(item, path: itemPath) { secrets.append(secret) } else { valid = false }
        }
        if valid, let duplicate = Self.firstDuplicate(secrets.map(\.id)) {
            report("\(path): the secret id '\(TextEscaping.key(duplicate))' is given twice", at: entry.node.location, width: entry.node.width)
            return nil
        }
        return valid ? secrets : nil
    }

    private mutating func secret(_ item: Located<String>, path: FieldPath) -> Manifest.Step.Secret? {
        func fail(_ problem: String) -> Manifest.Step.Secret? {
            report("\(path): \(problem)", at: item.location, width: item.width)
            return nil
        }
        var fields: [String: String] = [:]
        for field in item.value.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return fail("expected KEY=VALUE fields (id, src, target, env, uid, gid, mode), found '\(TextEscaping.key(String(field)))'") }
            guard Self.secretFields.contains(parts[0]) else {
                let hint = Suggestion.closest(to: parts[0], among: Self.secretFields).map { "; did you mean '\($0)'?" } ?? " (expected id, src, target, env, uid, gid or mode)"
                return fail("unknown secret field '\(TextEscaping.key(parts[0]))'\(hint)")
            }
            guard fields.updateValue(parts[1], forKey: parts[0]) == nil else { return fail("'\(parts[0])' is given twice") }
        }
        guard let id = fields["id"], !id.isEmpty else { return fail("a secret needs id=ID") }
        if let problem = ValueRules.secretIDProblem(id) { return fail("id: \(problem)") }
        guard let src = fields["src"] else { return fail("a secret needs src=FILE (an absolute path or ~/…): the file it is read from") }
        let source: Manifest.HostPath
        switch ValueRules.hostPath(src) {
        case let .success(path): source = path
        case let .failure(error): return fail("src: \(error.reason)")
        }
        if let target = fields["target"], let problem = ValueRules.mountPointProblem(target) { return fail("target: \(problem)") }
        if let name = fields["env"], let problem = ValueRules.variableNameProblem(name) { return fail("env: \(problem)") }
        var ownerFields = fields
        let owner: MountOwnerFields
        switch MountOwnerFields.take(from: &ownerFields, maxMode: 0o777) {
        case let .success(read): owner = read
        case let .failure(problem): return fail("\(problem.key): '\(TextEscaping.key(problem.value))' is not \(problem.expected)")
        }
        var secret = Manifest.Step.Secret(id: id, source: source, target: fields["target"], environmentName: fields["env"], location: item.location)
        (secret.uid, secret.gid, secret.mode) = (owner.uid, owner.gid, owner.mode)
        return secret
    }

    private static func firstDuplicate(_ words: [String]) -> String? {
        var seen = Set<String>()
        return words.first { !seen.insert($0).inserted }
    }
}
