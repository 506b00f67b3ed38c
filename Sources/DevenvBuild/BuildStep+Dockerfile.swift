extension BuildStep {
    /// Summaries of the Dockerfile step kinds, in the Dockerfile's own words.
    var dockerfileSummary: String {
        switch self {
        case let .runWithArguments(command, _, _, _):
            if command.count == 3, command[1] == "-c", command[0].hasSuffix("sh") { return "RUN \(command[2])" }
            return "RUN [" + command.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case let .copyFiles(copy):
            return copy.summary
        case let .config(changes):
            return changes.map(\.summary).joined(separator: "; ")
        case let .makeWorkdir(path):
            return "WORKDIR \(path)"
        case .run, .copy, .env, .workdir, .user:
            return summary
        }
    }
}

extension BuildStep {
    /// How two versions of a step differ, for `--explain`: their summaries, or when those
    /// are equal (a build argument, a cache mount, the network changed), the parts that differ.
    static func changeDescription(from old: BuildStep, to new: BuildStep) -> (String, String) {
        if old.summary != new.summary { return (old.summary, new.summary) }
        if case let .runWithArguments(_, oldArguments, oldMounts, oldNetwork) = old,
           case let .runWithArguments(_, newArguments, newMounts, newNetwork) = new {
            if oldArguments != newArguments { return (describe(oldArguments), describe(newArguments)) }
            if oldMounts != newMounts { return ("cache mounts " + oldMounts.joined(separator: " "), "cache mounts " + newMounts.joined(separator: " ")) }
            if oldNetwork != newNetwork { return ("network \(oldNetwork.rawValue)", "network \(newNetwork.rawValue)") }
        }
        if case let .run(_, oldMounts, oldNetwork) = old, case let .run(_, newMounts, newNetwork) = new {
            if oldMounts != newMounts { return ("cache " + oldMounts.joined(separator: " "), "cache " + newMounts.joined(separator: " ")) }
            if oldNetwork != newNetwork { return ("network \(oldNetwork.rawValue)", "network \(newNetwork.rawValue)") }
        }
        return (old.summary, new.summary)
    }

    private static func describe(_ arguments: [EnvironmentVariable]) -> String {
        arguments.isEmpty ? "no build arguments" : "build arguments " + arguments.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }
}
