import DevenvPlan
import DevenvManifest
import DevenvOCI
@testable import DevenvAdopt

/// A canonical text form of parsed instructions and of plans, for golden comparisons.
enum Dump {
    static func dockerfile(_ file: Dockerfile) -> String {
        var lines: [String] = []
        for instruction in file.globalArguments { lines.append(self.instruction(instruction)) }
        for stage in file.stages {
            var from = "\(stage.location) FROM \(q(stage.from.image.value))"
            if let name = stage.from.stageName { from += " AS \(q(name.value))" }
            if let platform = stage.from.platform { from += " platform=\(q(platform.value))" }
            lines.append(from)
            for instruction in stage.instructions { lines.append(self.instruction(instruction)) }
        }
        return lines.joined(separator: "\n")
    }

    static func instruction(_ instruction: Instruction) -> String {
        "\(instruction.location) \(instruction.keyword) " + command(instruction.command)
    }

    static func command(_ command: Command) -> String {
        switch command {
        case let .from(from): return q(from.image.value)
        case let .arg(declarations):
            return declarations.map { q($0.name.value) + ($0.defaultValue.map { "=" + q($0.value) } ?? "") }.joined(separator: " ")
        case let .env(pairs), let .label(pairs):
            return pairs.map { "\(q($0.key.value))=\(q($0.value.value))@\($0.value.location)" }.joined(separator: " ")
        case let .run(run):
            var text = form(run.form)
            for mount in run.mounts { text += " mount=\(q(mount.value))" }
            if let network = run.network { text += " network=\(q(network.value))" }
            return text + heredocs(run.heredocs)
        case let .cmd(value), let .entrypoint(value): return form(value)
        case let .shell(arguments): return q(arguments)
        case let .workdir(word), let .user(word), let .stopSignal(word), let .maintainer(word): return q(word.value)
        case let .copy(copy):
            var text = "sources=\(q(copy.sources.map(\.value))) dest=\(q(copy.destination.value))"
            if let from = copy.from { text += " from=\(q(from.value))" }
            if let chown = copy.chown { text += " chown=\(q(chown.value))" }
            if let chmod = copy.chmod { text += " chmod=\(q(chmod.value))" }
            if copy.json { text += " json" }
            return text + heredocs(copy.heredocs)
        case let .expose(words): return q(words.map(\.value))
        case let .volume(words, json): return q(words.map(\.value)) + (json ? " json" : "")
        case let .healthcheck(check):
            var text = q(check.test)
            for (name, value) in [("interval", check.interval), ("timeout", check.timeout), ("start-period", check.startPeriod),
                                  ("start-interval", check.startInterval)] {
                if let value { text += " \(name)=\(value)" }
            }
            if let retries = check.retries { text += " retries=\(retries)" }
            return text
        case let .onBuild(trigger): return q(trigger)
        }
    }

    static func form(_ form: CommandForm) -> String {
        switch form {
        case let .shell(word): return "shell \(q(word.value))"
        case let .exec(arguments): return "exec \(q(arguments))"
        }
    }

    static func heredocs(_ heredocs: [Heredoc]) -> String {
        heredocs.map { " <<\($0.name)\($0.expand ? "" : " literal")\($0.chomp ? " chomp" : "")=\(q($0.content))" }.joined()
    }

    static func plan(_ plan: DockerfilePlan) -> String {
        var lines: [String] = []
        for stage in plan.stages {
            let base: String
            switch stage.base {
            case let .image(word): base = "image \(q(word.value))"
            case .scratch: base = "scratch"
            case let .stage(index): base = "stage \(index)"
            }
            lines.append("stage \(stage.displayName): \(base)")
            for step in stage.steps { lines.append("  \(step.location.line): " + self.step(step)) }
        }
        if !plan.unusedArguments.isEmpty { lines.append("unused: " + plan.unusedArguments.joined(separator: " ")) }
        return lines.joined(separator: "\n")
    }

    static func step(_ step: DockerfileStep) -> String {
        switch step.step {
        case let .run(run):
            var text = "RUN \(q(run.command))"
            if !run.arguments.isEmpty { text += " args=" + run.arguments.map { "\($0.name)=\(q($0.value))" }.joined(separator: ",") }
            if run.network == .none { text += " network=none" }
            for mount in run.cacheMounts {
                text += " cache=\(mount.target)"
                if mount.id != mount.target { text += "(id=\(mount.id))" }
                if let uid = mount.uid { text += "(uid=\(uid))" }
            }
            return text
        case let .config(changes):
            return changes.map { change -> String in
                switch change {
                case let .env(variables, _): return "ENV " + variables.map { "\($0.name)=\(q($0.value))" }.joined(separator: " ")
                case let .labels(labels): return "LABEL " + labels.map { "\($0.name)=\(q($0.value))" }.joined(separator: " ")
                case let .cmd(arguments): return "CMD " + (arguments.map { q($0) } ?? "nil")
                case let .entrypoint(arguments): return "ENTRYPOINT " + (arguments.map { q($0) } ?? "nil")
                case let .user(user): return "USER \(user)"
                default: return DockerfileWords.change(change)
                }
            }.joined(separator: "; ")
        case .copy:
            var text = step.definition
            if let source = step.copy {
                switch source.origin {
                case .context: text += " <context>"
                case let .stage(index): text += " <stage \(index)>"
                case let .image(word): text += " <image \(word.value)>"
                }
                text += " patterns=" + q(source.patterns.map(\.value))
                for file in source.inline { text += " inline \(file.name)=\(q(file.content))" }
            }
            return text
        case .workdir:
            return step.definition
        }
    }

    static func q(_ text: String) -> String { String(reflecting: text) }
    static func q(_ list: [String]) -> String { "[" + list.map(q).joined(separator: ",") + "]" }
}

/// Plans `text` for `target` with images whose configs come from `images` (unknown ones fail).
func plan(_ text: String, target: String? = nil, arguments: [String: String] = [:],
          images: [String: ImageConfig.RunConfig] = ["busybox": ImageConfig.RunConfig(env: ["PATH=/usr/bin:/bin"], cmd: ["sh"])]) throws -> DockerfilePlan {
    let file = try parse(text)
    let planner = DockerfilePlanner(dockerfile: file, options: .init(target: target, arguments: arguments,
                                                                     platform: Platform(architecture: "amd64", os: "linux"))) { word in
        guard let config = images[word.value] else { throw MissingImage(name: word.value) }
        return config
    }
    return try planner.plan()
}

struct MissingImage: Error, Equatable {
    let name: String
}

func planError(_ text: String, target: String? = nil, arguments: [String: String] = [:]) -> String? {
    do {
        _ = try plan(text, target: target, arguments: arguments)
        return nil
    } catch let error as ManifestError {
        return error.description
    } catch {
        return "\(error)"
    }
}
