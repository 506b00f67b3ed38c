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
        #expect(try DeviceOption.device("/dev/null:/dev/mynull:r") == DeviceBind(source: "/dev/null", destination: "/dev/mynull", readOnly: true))
        #expect(try DeviceOption.device("/dev/kvm:rw") == DeviceBind(source: "/dev/kvm", destination: "/dev/kvm"))
        for bad in ["", "dev/x", "/dev/x:y", "/dev/a:/dev/b:rw:x", "nvidia.com/gpu=all"] {
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
