/// `[base] dockerfile = "…"` with `context`, `target` and `args`: the base is built from a
/// Dockerfile in the project instead of named by `image`.
extension ManifestValidator {
    mutating func readDockerfileBase(_ table: TOMLTable, path: FieldPath, node: TOMLNode) -> Manifest.Base? {
        guard let fileEntry = table["dockerfile"] else {
            let key = ["context", "target", "args"].compactMap { table[$0] }.first
            report("\(path): '\(key?.key ?? "target")' needs 'dockerfile' (or use 'image')", at: key?.keyLocation ?? node.location, width: key?.keyWidth ?? 1)
            return nil
        }
        if let image = table["image"] {
            report("\(path): give either 'image' or 'dockerfile', not both", at: image.keyLocation, width: image.keyWidth)
            return nil
        }
        var valid = true
        let file = projectPath(fileEntry, path: path.key("dockerfile"), valid: &valid)
        let context = table["context"].flatMap { projectPath($0, path: path.key("context"), valid: &valid) }
        var target: Located<String>?
        if let entry = table["target"] {
            target = string(entry, path: path.key("target"))
            if let value = target, value.value.isEmpty {
                report("must not be empty", path: path.key("target"), at: entry.node)
                target = nil
            }
            valid = target != nil && valid
        }
        var args: [Manifest.EnvironmentVariable] = []
        if let entry = table["args"] {
            if let variables = environment(entry, path: path.key("args")) { args = variables } else { valid = false }
        }
        guard valid, let file else { return nil }
        return Manifest.Base(dockerfile: Manifest.DockerfileBase(path: file, context: context, target: target, args: args), location: node.location)
    }

    private mutating func projectPath(_ entry: TOMLEntry, path: FieldPath, valid: inout Bool) -> Located<String>? {
        guard let value = string(entry, path: path, limit: ValueRules.maxPathLength),
              check(value, path: path, ValueRules.projectPathProblem) else {
            valid = false
            return nil
        }
        return value
    }
}
