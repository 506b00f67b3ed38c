import DevenvOCI
import DevenvPlan
import Testing

/// Run-configuration edits, as every front end's config steps apply them.
struct ConfigChangeTests {
    static func applied(_ changes: [ConfigChange], to config: ImageConfig.RunConfig = ImageConfig.RunConfig(env: ["PATH=/bin"])) -> ImageConfig.RunConfig {
        var config = config
        for change in changes { change.apply(to: &config) }
        return config
    }

    /// A manifest's env expands references against the image's values; a Dockerfile's ENV
    /// (expanded by its planner) and a devcontainer's containerEnv are taken as written.
    @Test func environmentExpandsOnlyWhenAsked() {
        let path = [EnvironmentVariable(name: "PATH", value: "/opt/bin:$PATH"), EnvironmentVariable(name: "B", value: "${PATH}")]
        #expect(Self.applied([.env(path, expands: true)]).env == ["PATH=/opt/bin:/bin", "B=/opt/bin:/bin"])
        #expect(Self.applied([.env(path)]).env == ["PATH=/opt/bin:$PATH", "B=${PATH}"])
    }

    @Test func userLabelsAndCommand() {
        let config = Self.applied([.user("1000:1000"), .labels([EnvironmentVariable(name: "a", value: "1")]), .entrypoint(["/e"]), .cmd(nil),
                                   .exposedPorts(["80/tcp"]), .volumes(["/data"]), .stopSignal("SIGINT")],
                                  to: ImageConfig.RunConfig(cmd: ["sh"]))
        #expect(config.user == "1000:1000" && config.labels == ["a": "1"] && config.entrypoint == ["/e"] && config.cmd == nil)
        #expect(config.exposedPorts?.keys.sorted() == ["80/tcp"] && config.volumes?.keys.sorted() == ["/data"] && config.stopSignal == "SIGINT")
    }

    @Test func workingDirectoriesResolveAgainstTheCurrentOne() {
        #expect(ConfigEditor.resolve("sub/../app/.", from: "/srv") == "/srv/app")
        #expect(ConfigEditor.resolve("/abs//x/", from: "/srv") == "/abs/x")
        #expect(ConfigEditor.resolve("../..", from: nil) == "/")
    }

    @Test func shellQuoting() {
        #expect(RunStep.shellQuote("it's") == #"'it'\''s'"#)
        #expect(RunStep.shellQuote("") == "''")
    }
}
