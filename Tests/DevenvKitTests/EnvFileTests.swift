@testable import DevenvKit
import DevenvRuntime
import DevenvSession
import Testing

/// Docker's `--env-file` format (moby `opts/file.go`), as `EnvFile` reads it.
@Suite struct EnvFileTests {
    @Test func linesAreTakenLiterally() throws {
        let text = "\u{FEFF}# a comment\nA=1\n\n   B= spaced value \nQUOTED=\"kept\"\nDOLLAR=$HOME/x\nEMPTY=\nWITH=equals=inside\r\n  # indented comment\n"
        #expect(try EnvFile.parse(text, path: ".env", host: ["HOME": "/home/alice"]) == [
            "A=1", "B= spaced value ", "QUOTED=\"kept\"", "DOLLAR=$HOME/x", "EMPTY=", "WITH=equals=inside",
        ])
    }

    @Test func aNameWithWhitespaceIsAnError() {
        #expect(throws: RuntimeError.self) { try EnvFile.parse("B =x\n", path: ".env", host: [:]) }
        let error = #expect(throws: RuntimeError.self) { try EnvFile.parse("A=1\nB C=x\n", path: "/p/.env", host: [:]) }
        #expect(error?.message == "env file \"/p/.env\" line 2: variable \"B C\" contains whitespace")
        let empty = #expect(throws: RuntimeError.self) { try EnvFile.parse("=x\n", path: ".env", host: [:]) }
        #expect(empty?.message.contains("line 1: no variable name") == true)
    }

    @Test func aBareNamePassesTheHostsValue() throws {
        #expect(try EnvFile.parse("FROM_HOST\nMISSING\nA=1", path: ".env", host: ["FROM_HOST": "yes"]) == ["FROM_HOST=yes", "A=1"])
    }
}

/// `-v SRC:DST[:ro]` as `VolumeOption` reads it.
@Suite struct VolumeOptionTests {
    @Test func forms() throws {
        #expect(try VolumeOption.mount("data:/data:ro", base: "/p", home: "/h") == BindMount(source: "/p/data", destination: "/data", readOnly: true))
        #expect(try VolumeOption.mount("/abs:/x", base: "/p", home: nil) == BindMount(source: "/abs", destination: "/x"))
        #expect(try VolumeOption.mount("~/.cache:/c:rw", base: "/p", home: "/h") == BindMount(source: "/h/.cache", destination: "/c"))
        #expect(try VolumeOption.mount("~:/c", base: "/p", home: "/h").source == "/h")
    }

    @Test(arguments: ["data", "data:rel", ":/x", "a:/x:rx", "a:/x:ro:z", "~bob/x:/x", "~/x:/x"])
    func mistakes(_ text: String) {
        let error = #expect(throws: RuntimeError.self) { try VolumeOption.mount(text, base: "/p", home: nil) }
        #expect(error?.message.hasPrefix("-v ") == true, "\(String(describing: error))")
    }

    /// A destination devenv manages is refused with the spec, by the runtime's one rule.
    @Test(arguments: ["/proc/x", "/dev", "/", "/sys/../proc"])
    func hostileDestinations(_ destination: String) throws {
        var options = SessionOptions()
        options.volumes = ["/tmp:\(destination)"]
        let session = try WorkspaceSession(lowerDirs: ["/l"], command: ["true"], mountDirectory: "/p", mounts: options.volumeMounts(base: "/p", home: nil))
        #expect(throws: RuntimeError.self) { try SpecValidator.validate(session.spec(for: HostIdentity(uid: 0, gid: 0, name: "root"))) }
    }
}

/// `--device HOST[:CONTAINER][:rwm]` as `DeviceOption` reads it, and where the runtime lets it go.
@Suite struct DeviceOptionTests {
    @Test func forms() throws {
        #expect(try DeviceOption.device("/dev/fuse") == DeviceBind(source: "/dev/fuse", destination: "/dev/fuse"))
        #expect(try DeviceOption.device("/dev/null:/dev/mynull") == DeviceBind(source: "/dev/null", destination: "/dev/mynull"))
        #expect(try DeviceOption.device("/dev/kvm:rw") == DeviceBind(source: "/dev/kvm", destination: "/dev/kvm"))
        #expect(try DeviceOption.device("/dev/a:/dev/b:rwm") == DeviceBind(source: "/dev/a", destination: "/dev/b"))
        // Narrower permissions cannot be enforced (no device cgroup; ro mounts do not stop device writes).
        let narrow = #expect(throws: RuntimeError.self) { try DeviceOption.device("/dev/null:/dev/mynull:r") }
        #expect(narrow?.message.contains("cannot restrict a device to 'r'") == true)
        for bad in ["", "dev/x", "/dev/x:y", "/dev/a:/dev/b:rw:x", "nvidia.com/gpu=all", "/dev/x:wm"] {
            #expect(throws: RuntimeError.self, "\(bad)") { try DeviceOption.device(bad) }
        }
    }

    @Test(arguments: ["/etc/x", "/dev/pts/0", "/dev/null", "/dev/shm", "/dev/../etc/x"])
    func destinationsOutsideDevOrManagedAreRefused(_ destination: String) throws {
        let spec = ContainerSpec(rootfs: RootfsSpec(lowerDirs: ["/l"]), devices: [DeviceBind(source: "/dev/zero", destination: destination)],
                                 process: ProcessSpec(args: ["true"]))
        #expect(throws: RuntimeError.self) { try SpecValidator.validate(spec) }
    }
}

/// CDI specs (JSON) as `CDIRegistry` finds them and `CDISpec.resolve` applies them.
@Suite struct CDISpecTests {
    static let spec = """
    {"cdiVersion": "0.6.0", "kind": "devenv.test/dev",
     "containerEdits": {"env": ["CDI_COMMON=1"]},
     "devices": [
       {"name": "null", "containerEdits": {"deviceNodes": [{"path": "/dev/devenv-null", "hostPath": "/dev/null"}], "env": ["CDI_NULL=1"],
                                             "mounts": [{"hostPath": "/usr/share", "containerPath": "/opt/share", "options": ["ro", "bind"]}]}},
       {"name": "zero", "containerEdits": {"deviceNodes": [{"path": "/dev/zero", "permissions": "rw"}]}},
       {"name": "hooked", "containerEdits": {"hooks": [{"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook"}]}}
     ]}
    """

    func registry(_ files: [String: String], yaml: CDIRegistry.YAMLReader? = nil) throws -> CDIRegistry {
        let directory = try SessionEnvironmentTests.Directory()
        for (name, text) in files { try directory.write(name, text) }
        return CDIRegistry(directories: [directory.path, "/nonexistent"], yaml: yaml)
    }

    /// The same spec as YAML (as `nvidia-ctk cdi generate` writes it), with an anchor and a
    /// null, means what the JSON means.
    static let yamlSpec = """
    ---
    cdiVersion: 0.6.0
    kind: devenv.test/dev
    containerEdits:
      env: ["CDI_COMMON=1"]
    devices:
    - name: "null"
      containerEdits:
        deviceNodes:
        - path: /dev/devenv-null
          hostPath: /dev/null
        env:
        - CDI_NULL=1
        mounts:
        - &share {hostPath: /usr/share, containerPath: /opt/share, options: [ro, bind]}
        hooks: ~
    - name: zero
      containerEdits:
        deviceNodes:
        - {path: /dev/zero, permissions: rw}
    """

    @Test func yamlSpecsReadAsTheirJSON() throws {
        let registry = try registry(["test.yaml": Self.yamlSpec], yaml: CDIYAMLReader.spec)
        #expect(registry.problems == [])
        #expect(registry.deviceNames == ["devenv.test/dev=null", "devenv.test/dev=zero"])
        let json = try self.registry(["test.json": Self.spec])
        #expect(try registry.resolve("devenv.test/dev=null") == json.resolve("devenv.test/dev=null"))
        #expect(try registry.resolve("devenv.test/dev=zero") == json.resolve("devenv.test/dev=zero"))
    }

    /// Broken YAML, a spec that is not a mapping and a "billion laughs" are problems naming
    /// the file, never a hang; without a reader YAML is reported, not skipped silently.
    @Test func hostileYAMLSpecs() throws {
        var laughs = "cdiVersion: 0.6.0\nkind: a.com/b\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { laughs += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        laughs += "devices: [{name: x, containerEdits: {env: *l9}}]\n"
        // Deep enough to overflow a recursive composer's stack, were it parsed.
        let deep = "cdiVersion: 0.6.0\nkind: a.com/b\ndevices: " + String(repeating: "[", count: 200_000) + "\n"
        let registry = try registry(["broken.yaml": "kind: [\n", "list.yml": "- a\n- b\n", "laughs.yaml": laughs, "deep.yaml": deep],
                                    yaml: CDIYAMLReader.spec)
        #expect(registry.specs.isEmpty)
        #expect(registry.problems.count == 4, "\(registry.problems)")
        #expect(registry.problems.contains { $0.contains("deep.yaml") && $0.contains("nests deeper than 64 levels") }, "\(registry.problems)")
        #expect(registry.problems.contains { $0.contains("broken.yaml") && $0.contains("not YAML") }, "\(registry.problems)")
        #expect(registry.problems.contains { $0.contains("list.yml") && $0.contains("not a mapping") }, "\(registry.problems)")
        #expect(registry.problems.contains { $0.contains("laughs.yaml") && $0.contains("expands to more than") }, "\(registry.problems)")
        let without = try self.registry(["test.yaml": Self.yamlSpec])
        #expect(without.specs.isEmpty && without.problems.contains { $0.contains("test.yaml: YAML CDI specs are read by the full CLI only") })
    }

    @Test func resolvesNodesMountsAndEnvironment() throws {
        let registry = try registry(["test.json": Self.spec])
        #expect(registry.deviceNames == ["devenv.test/dev=null", "devenv.test/dev=zero", "devenv.test/dev=hooked"])
        let null = try registry.resolve("devenv.test/dev=null")
        #expect(null.devices == [DeviceBind(source: "/dev/null", destination: "/dev/devenv-null")])
        #expect(null.mounts == [BindMount(source: "/usr/share", destination: "/opt/share", readOnly: true)])
        #expect(null.environment == ["CDI_COMMON=1", "CDI_NULL=1"])
        #expect(try registry.resolve("devenv.test/dev=zero").devices == [DeviceBind(source: "/dev/zero", destination: "/dev/zero")])
    }

    @Test func refusals() throws {
        let registry = try registry(["test.json": Self.spec, "other.yaml": "cdiVersion: 0.6.0\n", "broken.json": "{"])
        #expect(registry.problems.count == 2 && registry.problems.contains { $0.contains("other.yaml: YAML CDI specs are read by the full CLI only") })
        let hooked = #expect(throws: RuntimeError.self) { try registry.resolve("devenv.test/dev=hooked") }
        #expect(hooked?.message.contains("devenv runs no CDI hooks") == true)
        // `all` includes the hooked device, so it is refused as a whole.
        #expect(throws: RuntimeError.self) { try registry.resolve("devenv.test/dev=all") }
        let missing = #expect(throws: RuntimeError.self) { try registry.resolve("devenv.test/dev=gpu0") }
        #expect(missing?.message.contains("no such device (have: null, zero, hooked)") == true)
        #expect(throws: RuntimeError.self) { try registry.resolve("nvidia.com/gpu=all") }
    }

    /// `--device` with a CDI name goes through the same session as a host node.
    @Test func sessionsApplyCDIDevices() throws {
        let registry = try registry(["test.json": Self.spec])
        var options = SessionOptions()
        options.devices = ["devenv.test/dev=null", "/dev/fuse"]
        options.environment = ["CDI_NULL=flag"]
        var session = WorkspaceSession(lowerDirs: ["/l"], command: ["true"], mountDirectory: "/p", environment: options.resolvedEnvironment(host: [:]))
        try options.applyDevices(to: &session) { registry }
        let spec = session.spec(for: HostIdentity(uid: 0, gid: 0, name: "root"))
        #expect(spec.devices == [DeviceBind(source: "/dev/null", destination: "/dev/devenv-null"), DeviceBind(source: "/dev/fuse", destination: "/dev/fuse")])
        #expect(spec.mounts.contains(BindMount(source: "/usr/share", destination: "/opt/share", readOnly: true)))
        #expect(spec.process.environment.contains("CDI_COMMON=1") && spec.process.environment.contains("CDI_NULL=flag"))
        try SpecValidator.validate(spec)
    }
}
