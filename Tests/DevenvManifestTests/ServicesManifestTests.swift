import Testing
@testable import DevenvManifest

@Suite struct ServicesManifestTests {
    static let valid = """
    [base]
    image = "x"

    [shell]
    services = ["db"]

    [services.db]
    command = "postgres -D /data"
    env = { PGDATA = "/data" }
    ports = [5432]
    volumes = ["pgdata:/data", "./seed:/seed:ro"]
    ready = ["pg_isready", "-h", "127.0.0.1"]
    ready_timeout = 90
    restart = "on-failure"

    [services.cache]
    image = "redis:7"
    ports = [6379]

    [services.worker]
    command = "run-one-job"
    restart = "always"

    [services.web]
    command = ["python3", "-m", "http.server", "8000"]
    depends_on = ["db", "cache"]
    workdir = "/workspace/site"

    [tasks]
    test = { run = "pytest", services = ["db"] }
    """

    @Test func servicesKeepWhatWasWritten() throws {
        let manifest = try parse(Self.valid)
        #expect(manifest.services.map(\.name) == ["db", "cache", "worker", "web"])
        let db = try #require(manifest.service(named: "db"))
        #expect(db.command?.value == .shell("postgres -D /data"))
        #expect(db.image == nil && db.env.map(\.name) == ["PGDATA"])
        #expect(db.ports.map(\.value) == [5432] && db.ports[0].location.line == 10)
        #expect(db.volumes == [
            Manifest.ServiceVolume(source: .named("pgdata"), target: "/data", readOnly: false, location: db.volumes[0].location),
            Manifest.ServiceVolume(source: .workingTree("./seed"), target: "/seed", readOnly: true, location: db.volumes[1].location),
        ])
        #expect(db.ready?.value == .argv(["pg_isready", "-h", "127.0.0.1"]) && db.readyTimeout == 90 && db.restart == .onFailure)
        let cache = try #require(manifest.service(named: "cache"))
        #expect(cache.image?.value == "redis:7" && cache.command == nil && cache.restart == .no)
        #expect(cache.readyTimeout == Manifest.Service.defaultReadyTimeout)
        #expect(manifest.service(named: "worker")?.restart == .always)
        #expect(manifest.service(named: "web")?.workdir?.value == "/workspace/site")
        #expect(manifest.shell.services.map(\.value) == ["db"])
        #expect(manifest.task(named: "test")?.services.map(\.value) == ["db"])
    }

    @Test func startOrderPutsDependenciesFirstOnce() throws {
        let manifest = try parse(Self.valid)
        #expect(manifest.servicesStartOrder().map(\.name) == ["db", "cache", "worker", "web"])
        #expect(manifest.servicesStartOrder(["web"]).map(\.name) == ["db", "cache", "web"])
        #expect(manifest.servicesStartOrder(["cache", "db"]).map(\.name) == ["cache", "db"])
    }

    private func messages(_ source: String) throws -> [String] {
        let error = try #require(manifestError(source))
        return error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }

    @Test func badDefinitionsAreLocated() throws {
        let lines = try messages("""
        [base]
        image = "x"

        [services.db]
        comand = "postgres"

        [services.a]
        command = "x"
        ports = [0, "80", 70000]

        [services.b]
        command = "x"
        restart = "unless-stopped"
        ready_timeout = 0
        volumes = ["../up:/x", "data:/x", "data:/x", "-bad:/y", "data:relative", "one"]

        [services."bad name"]
        command = "x"
        """)
        #expect(lines.contains { $0.hasPrefix("5:1: unknown key 'comand' in [services.db] (did you mean 'command'?)") }, "\(lines)")
        #expect(lines.contains("4:11: services.db: give 'command' (a program of the project's environment image) or 'image' (a service image)"), "\(lines)")
        #expect(lines.contains("9:10: services.a.ports[1]: expected a port number from 1 to 65535, found 0"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("13:11: services.b.restart: expected 'no', 'on-failure' or 'always', found 'unless-stopped'") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("14:17: services.b.ready_timeout: expected a number of seconds from 1 to 3600") }, "\(lines)")
        #expect(lines.contains { $0.contains("services.b.volumes[1]: working-tree path must not leave the project directory") }, "\(lines)")
        #expect(lines.contains { $0.contains("services: invalid service name 'bad name'") }, "\(lines)")
    }

    @Test func volumeShapesAreChecked() throws {
        for (volume, expected) in [
            ("data:/x", nil),
            ("-bad:/y", "invalid volume name '-bad'"),
            ("data:relative", "container path"),
            ("one", "expected 'NAME:/path'"),
            ("data:/x:rx", "expected 'NAME:/path'"),
        ] as [(String, String?)] {
            let source = "[base]\nimage = \"x\"\n[services.s]\ncommand = \"x\"\nvolumes = [\"\(volume)\"]\n"
            if let expected {
                let lines = try messages(source)
                #expect(lines.contains { $0.contains(expected) }, "\(volume): \(lines)")
            } else {
                #expect(try parse(source).services[0].volumes.count == 1)
            }
        }
        let twice = try messages("[base]\nimage = \"x\"\n[services.s]\ncommand = \"x\"\nvolumes = [\"a:/x\", \"b:/x/\"]\n")
        #expect(twice.contains { $0.contains("'/x/' is mounted twice") }, "\(twice)")
    }

    @Test func referencesPortsAndCyclesAreChecked() throws {
        let lines = try messages("""
        [base]
        image = "x"

        [shell]
        services = ["dbb"]

        [services.db]
        command = "x"
        ports = [5432]
        depends_on = ["web"]

        [services.web]
        command = "x"
        ports = [5432]
        depends_on = ["db"]

        [tasks]
        t = { run = "x", services = ["nope"] }
        """)
        #expect(lines.contains("5:13: shell.services: no service 'dbb' is defined (did you mean 'db'?)"), "\(lines)")
        #expect(lines.contains("14:10: services.web.ports: port 5432 is already used by service 'db'"), "\(lines)")
        #expect(lines.contains { $0.contains("services: depends_on makes a cycle: db -> web -> db") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("18:30: tasks.t.services: no service 'nope' is defined") }, "\(lines)")
    }

    @Test func aReferenceWithoutServicesSaysHowToDefineOne() throws {
        let lines = try messages("[base]\nimage = \"x\"\n[shell]\nservices = [\"db\"]\n")
        #expect(lines.contains("4:13: shell.services: no service 'db' is defined (define it as [services.db])"), "\(lines)")
    }
}
