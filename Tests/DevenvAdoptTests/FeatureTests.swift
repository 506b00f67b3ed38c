import DevenvManifest
import DevenvPlan
import Testing
@testable import DevenvAdopt

/// Dev Container Features, the pure part: references in devcontainer.json, the feature's
/// metadata, options as install.sh sees them, and the spec's install order.
struct FeatureTests {
    static func parse(_ text: String) throws -> DevContainerConfig {
        try DevContainerConfig.parse(Array(text.utf8), root: "/p", displayPath: ".devcontainer/devcontainer.json", environment: [:])
    }

    @Test func featuresAreReadNotWarnedAbout() throws {
        let config = try Self.parse("""
            {
              "image": "busybox",
              "features": {
                "ghcr.io/devcontainers/features/node:1": { "version": "20", "nodeGypDependencies": false },
                "./local": {},
                "ghcr.io/x/y/z:2": "1.2",
              },
              "overrideFeatureInstallOrder": ["./local"],
            }
            """)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
        #expect(config.features.map(\.reference) == ["ghcr.io/devcontainers/features/node:1", "./local", "ghcr.io/x/y/z:2"])
        #expect(config.features[0].options == ["version": .string("20"), "nodeGypDependencies": .bool(false)])
        #expect(config.features[0].location.line == 4)
        #expect(config.features[2].options == ["version": .string("1.2")])
        #expect(config.featureInstallOrder == ["./local"])
    }

    @Test func badFeatureEntriesAreLocatedErrors() {
        #expect {
            try Self.parse("{\n  \"image\": \"busybox\",\n  \"features\": { \"./a\": [1] }\n}\n")
        } throws: { error in
            "\(error)".contains(".devcontainer/devcontainer.json:3:24: error: features../a: expected an object of options, found an array")
        }
        #expect {
            try Self.parse("{\n  \"image\": \"busybox\",\n  \"features\": { \"./a\": { \"x\": [] } }\n}\n")
        } throws: { error in "\(error)".contains("3:31: error: features../a.x: expected a string or a boolean, found an array") }
    }

    static let metadata = """
        {
          "id": "tool",
          "version": "1.0.3",
          "options": {
            "version": { "type": "string", "proposals": ["latest", "1.0"], "default": "latest" },
            "flavor": { "type": "string", "enum": ["mild", "hot"], "default": "mild" },
            "install-docs": { "type": "boolean", "default": true },
            "9lives": { "type": "string", "default": "" }
          },
          "containerEnv": { "PATH": "/opt/tool/bin:${PATH}" },
          "dependsOn": { "ghcr.io/a/b/common:1": { "user": "dev" } },
          "installsAfter": ["ghcr.io/a/b/other"],
          "capAdd": ["SYS_PTRACE"],
          "postCreateCommand": "tool --init",
          "postStartCommand": ["tool", "serve"]
        }
        """

    @Test func metadataIsRead() throws {
        let metadata = try FeatureMetadata.parse(Array(Self.metadata.utf8), path: "devcontainer-feature.json")
        #expect(metadata.id == "tool")
        #expect(metadata.version == "1.0.3")
        #expect(metadata.options["flavor"]?.allowed == ["mild", "hot"])
        #expect(metadata.dependsOn.map(\.reference) == ["ghcr.io/a/b/common:1"])
        #expect(metadata.dependsOn.first?.options == ["user": .string("dev")])
        #expect(metadata.installsAfter == ["ghcr.io/a/b/other"])
        #expect(metadata.capAdd == ["SYS_PTRACE"])
        #expect(metadata.createCommands.map(\.command) == [.shell("tool --init")])
        #expect(metadata.startCommands.map(\.command) == [.argv(["tool", "serve"])])
        #expect(throws: DiagnosticError.self) { try FeatureMetadata.parse(Array("{\"id\": \"../escape\"}".utf8), path: "f.json") }
        #expect(throws: DiagnosticError.self) { try FeatureMetadata.parse(Array("{\"version\": \"1\"}".utf8), path: "f.json") }
    }

    @Test func optionsOverrideDefaultsAndAreChecked() throws {
        let metadata = try FeatureMetadata.parse(Array(Self.metadata.utf8), path: "devcontainer-feature.json")
        let environment = try FeatureOptions.environment(metadata, requested: ["flavor": .string("hot"), "install-docs": .bool(false)])
        #expect(environment.map { "\($0.name)=\($0.value)" } == ["FLAVOR=hot", "INSTALL_DOCS=false", "VERSION=latest", "_LIVES="])
        // `proposals` only suggest.
        #expect(try FeatureOptions.environment(metadata, requested: ["version": .string("2.7")]).contains(EnvironmentVariable(name: "VERSION", value: "2.7")))
        #expect(throws: FeatureProblem("option 'flavor' is \"extra\", but must be one of \"mild\", \"hot\"")) {
            try FeatureOptions.environment(metadata, requested: ["flavor": .string("extra")])
        }
        #expect(throws: FeatureProblem("option 'install-docs' is a boolean, not \"yes\"")) {
            try FeatureOptions.environment(metadata, requested: ["install-docs": .string("yes")])
        }
        #expect(throws: FeatureProblem("option 'flavor' is a string; write \"true\" in quotes")) {
            try FeatureOptions.environment(metadata, requested: ["flavor": .bool(true)])
        }
        #expect(throws: FeatureProblem("option 'colour' is not one of the feature's options (9lives, flavor, install-docs, version)")) {
            try FeatureOptions.environment(metadata, requested: ["colour": .string("red")])
        }
    }

    @Test func safeNames() {
        #expect(FeatureOptions.safeName("version") == "VERSION")
        #expect(FeatureOptions.safeName("node-gyp.deps") == "NODE_GYP_DEPS")
        #expect(FeatureOptions.safeName("1st") == "_ST")
        #expect(FeatureOptions.safeName("__x") == "_X")
        #expect(FeatureOptions.safeName("größe") == "GR__E")
    }

    static func node(_ key: String, dependsOn: [String] = [], installsAfter: [String] = []) -> FeatureOrder.Node {
        FeatureOrder.Node(key: key, reference: "\(key):1", dependsOn: dependsOn, installsAfter: installsAfter, options: "")
    }

    @Test func installOrderFollowsTheSpec() throws {
        let nodes = [Self.node("z/app", dependsOn: ["a/common"]), Self.node("a/common"), Self.node("m/after", installsAfter: ["z/app", "absent/x"]),
                     Self.node("b/free")]
        let order = try FeatureOrder.sort(nodes, override: []).map { nodes[$0].key }
        // Round 1: a/common and b/free (by id); round 2: z/app; round 3: m/after (soft, present).
        #expect(order == ["a/common", "b/free", "z/app", "m/after"])
        // The override lets b/free go alone in the first round, ahead of everything.
        let overridden = try FeatureOrder.sort(nodes, override: ["b/free"]).map { nodes[$0].key }
        #expect(overridden == ["b/free", "a/common", "z/app", "m/after"])
    }

    @Test func aCycleIsNamed() {
        let nodes = [Self.node("a/one", dependsOn: ["a/two"]), Self.node("a/two", installsAfter: ["a/three"]),
                     Self.node("a/three", dependsOn: ["a/one"]), Self.node("a/free")]
        #expect(throws: FeatureProblem("the features depend on each other in a cycle: a/one:1 -> a/two:1 -> a/three:1 -> a/one:1")) {
            try FeatureOrder.sort(nodes, override: [])
        }
    }

    @Test func installStepsRunAsRootWithOptionsAndUsers() throws {
        let metadata = try FeatureMetadata.parse(Array(Self.metadata.utf8), path: "devcontainer-feature.json")
        let install = FeatureInstall(reference: "./tool", metadata: metadata, digest: "sha256:abc", options: [EnvironmentVariable(name: "FLAVOR", value: "it's hot")],
                                     sourceMount: "/tmp/build-features-src/tool_1", location: SourceLocation(line: 3, column: 5, offset: 0))
        let steps = FeatureInstall.steps([install], baseUser: "app", containerUser: nil, remoteUser: "dev")
        #expect(steps.map(\.step.definition) == ["user root", "ENV PATH=/opt/tool/bin:${PATH}", "feature ./tool", "user app"])
        #expect(steps.map(\.sourceMount) == [nil, nil, "/tmp/build-features-src/tool_1", nil])
        guard case let .config(changes) = steps[1].step.step, case let .env(_, expands)? = changes.first, expands else {
            Issue.record("\(steps[1])")
            return
        }
        guard case let .run(run) = steps[2].step.step else { Issue.record("\(steps[2])"); return }
        let script = run.command[2]
        #expect(script.contains("export FLAVOR='it'\\''s hot'"))
        #expect(script.contains("export _CONTAINER_USER='app' _REMOTE_USER='dev'"))
        #expect(script.contains("sha256:abc"))
        #expect(script.contains("cp -R '/tmp/build-features-src/tool_1'/. '/tmp/dev-container-features/tool_1'/"))
        // A root base needs no user switch.
        #expect(FeatureInstall.steps([install], baseUser: nil, containerUser: nil, remoteUser: nil).count == 2)
    }

    @Test func runArgsWarnOncePerFlagAndBuildOptionsMap() throws {
        let config = try Self.parse("""
            {
              "build": { "dockerfile": "Dockerfile", "options": ["--build-arg", "A=1", "--target=dev", "--add-host", "h:1.2.3.4", "--network=host"] },
              "runArgs": ["--cap-add", "SYS_PTRACE", "--security-opt=seccomp=unconfined", "--privileged"]
            }
            """)
        guard case let .dockerfile(dockerfile) = config.base else { Issue.record("\(config.base)"); return }
        #expect(dockerfile.args.map { "\($0.name)=\($0.value)" } == ["A=1"])
        #expect(dockerfile.target?.value == "dev")
        let runArgs = config.warnings.filter { $0.contains("'runArgs'") }
        #expect(runArgs.count == 3, "\(runArgs)")
        #expect(runArgs[0].contains("'--cap-add SYS_PTRACE' has no devenv equivalent"))
        let options = config.warnings.filter { $0.contains("build.options") }
        #expect(options.count == 1, "\(config.warnings)")
        #expect(options.first?.contains("'--add-host h:1.2.3.4'") == true)
    }

    @Test func composeIsExplained() {
        #expect {
            try Self.parse("{ \"dockerComposeFile\": \"compose.yml\", \"service\": \"app\" }")
        } throws: { error in
            "\(error)".contains("does not run Docker Compose files") && "\(error)".contains("reaches their published ports")
        }
    }
}
