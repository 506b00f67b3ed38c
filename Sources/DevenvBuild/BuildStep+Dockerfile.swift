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
