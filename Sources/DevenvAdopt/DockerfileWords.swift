import DevenvPlan

/// Steps described in a Dockerfile's words, for progress, image history and `--explain`
/// (`RUN make`, `COPY --from=build /out /srv/`, `ENV A=1`). devcontainer.json's steps use
/// them too: they are what its users read in Dockerfiles.
public enum DockerfileWords {
    public static func definition(of step: Step) -> String {
        switch step {
        case let .run(run): return self.run(run.command)
        case let .copy(copy): return self.copy(copy)
        case let .workdir(workdir): return "WORKDIR \(workdir.path)"
        case let .config(changes): return changes.map(change).joined(separator: "; ")
        }
    }

    static func run(_ command: [String]) -> String {
        if command.count == 3, command[1] == "-c", command[0].hasSuffix("sh") { return "RUN \(command[2])" }
        return "RUN " + render(command)
    }

    static func copy(_ copy: CopyStep) -> String {
        var flags = ""
        if let from = copy.from { flags += "--from=\(from) " }
        if let owner = copy.owner { flags += "--chown=\(owner) " }
        if let mode = copy.mode { flags += "--chmod=\(String(mode, radix: 8)) " }
        return "\(copy.unpacksArchives ? "ADD" : "COPY") \(flags)\(copy.sources.joined(separator: " ")) \(copy.destination)"
    }

    static func change(_ change: ConfigChange) -> String {
        switch change {
        case let .env(variables, _): return "ENV " + pairs(variables)
        case let .user(user): return "user \(user)"
        case let .labels(labels): return "LABEL " + pairs(labels)
        case let .entrypoint(arguments): return "ENTRYPOINT " + (arguments.map(render) ?? "(none)")
        case let .cmd(arguments): return "CMD " + (arguments.map(render) ?? "(none)")
        case let .exposedPorts(ports): return "EXPOSE " + ports.joined(separator: " ")
        case let .volumes(paths): return "VOLUME " + paths.joined(separator: " ")
        case let .stopSignal(signal): return "STOPSIGNAL " + signal
        case let .healthcheck(healthcheck): return "HEALTHCHECK " + self.healthcheck(healthcheck.test)
        case let .onBuild(triggers): return triggers.map { "ONBUILD " + $0.joined(separator: "; ONBUILD ") } ?? "ONBUILD (cleared)"
        }
    }

    private static func healthcheck(_ test: [String]) -> String {
        switch test.first {
        case "CMD": return "CMD " + render(Array(test.dropFirst()))
        case "CMD-SHELL": return "CMD " + test.dropFirst().joined(separator: " ")
        default: return test.joined(separator: " ")
        }
    }

    private static func pairs(_ variables: [EnvironmentVariable]) -> String {
        variables.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }

    private static func render(_ arguments: [String]) -> String {
        "[" + arguments.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }
}
