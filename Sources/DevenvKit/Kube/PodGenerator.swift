import DevenvManifest
import DevenvPlan
import DevenvText

/// A project's environment and services as Kubernetes objects (docs/kubernetes.md): one pod
/// whose first container is the environment (idle, for `kubectl exec`), each service a
/// container beside it sharing its network (so `127.0.0.1:PORT` reaches a service, as with
/// `devenv up`), the working tree as a volume, named volumes as PersistentVolumeClaims, and
/// the security the runtime applies locally. Pure: every value comes from the request.
public enum PodGenerator {
    /// The environment's container, and the working tree's volume.
    static let workspaceName = "workspace"
    static let cloneName = "clone-workspace"
    /// Where the clone container sees the whole repository.
    static let cloneMount = "/devenv-src"
    /// The environment's container has nothing to run but must stay up for `kubectl exec`;
    /// as PID 1 it must end on SIGTERM itself, or every pod deletion waits its grace period.
    static let idleCommand = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"]
    static let checkoutName = "checkout-workspace"
    static let probePeriod = 2

    public static func generate(_ request: KubeRequest) throws -> KubeManifest {
        let name = try KubeName.label(request.name, what: "project name")
        let services = request.manifest.servicesStartOrder()
        var containerNames = [workspaceName: "the environment", cloneName: "the clone init container", checkoutName: "the checkout init container"]
        for service in services {
            let container = try KubeName.label(service.name, what: "service name")
            if let other = containerNames.updateValue("service '\(service.name)'", forKey: container) {
                throw KitError.kube(problem: "service '\(Printable.escape(service.name))' and \(other) would both be the container '\(container)' (Kubernetes names are lower case)\nhint: rename one of them in .devenv/devenv.toml")
            }
        }
        let claims = try claimNames(services, pod: name)
        let (restartPolicy, restartNote) = restartPolicy(services, kind: request.kind)
        var notes = restartNote.map { [$0] } ?? []
        if request.manifest.shell.envFile != nil {
            notes.append("[shell] env_file is read on the host at each session start and is not part of the pod; give its variables to the cluster (a Secret or ConfigMap)")
        }
        var containers = [try workspaceContainer(request)]
        for service in services { containers.append(try serviceContainer(service, request: request)) }
        var spec: [(String, YAMLNode)] = [("restartPolicy", .string(restartPolicy))]
        spec.append(("securityContext", .map([("seccompProfile", .map([("type", .string("RuntimeDefault"))]))])))
        if case let .clone(url, commit, _, image) = request.workspace {
            spec.append(("initContainers", .list(cloneContainers(url: url, commit: commit, image: image ?? request.image, runAs: request.runAs,
                                                                  capabilities: request.capabilities))))
        }
        spec.append(("containers", .list(containers)))
        spec.append(("volumes", .list([workspaceVolume(request.workspace)] + claims.sorted { $0.key < $1.key }.map { _, claim in
            .map([("name", .string(claim.volume)), ("persistentVolumeClaim", .map([("claimName", .string(claim.claim))]))])
        })))
        let labels = YAMLNode.map([("app.kubernetes.io/name", .string(name)), ("app.kubernetes.io/managed-by", .string("devenv"))])
        var documents = claims.sorted { $0.key < $1.key }.map { _, claim in claimDocument(claim.claim, labels: labels, size: request.volumeSize) }
        switch request.kind {
        case .pod:
            documents.append(.map([("apiVersion", .string("v1")), ("kind", .string("Pod")),
                                   ("metadata", .map([("name", .string(name)), ("labels", labels)])), ("spec", .map(spec))]))
        case .deployment:
            documents.append(.map([
                ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")),
                ("metadata", .map([("name", .string(name)), ("labels", labels)])),
                ("spec", .map([
                    ("replicas", .integer(1)),
                    ("selector", .map([("matchLabels", .map([("app.kubernetes.io/name", .string(name))]))])),
                    // Claims are ReadWriteOnce: the old pod must let go before the new one mounts them.
                    ("strategy", .map([("type", .string("Recreate"))])),
                    ("template", .map([("metadata", .map([("labels", labels)])), ("spec", .map(spec))])),
                ])),
            ]))
        }
        return KubeManifest(documents: documents, notes: notes)
    }

    /// A pod has one `restartPolicy` for all its containers: the strongest any service asks
    /// for (`always` > `on-failure` > `no`), since a weaker one would leave a service that must
    /// keep running stopped for good; a Deployment's is always `Always` (the API allows no
    /// other). The note names the services restarted more than their `restart` says.
    static func restartPolicy(_ services: [Manifest.Service], kind: KubeRequest.Kind) -> (policy: String, note: String?) {
        let strongest: Manifest.Service.Restart = kind == .deployment ? .always
            : services.map(\.restart).max { strength($0) < strength($1) } ?? .no
        let policy = switch strongest {
        case .no: "Never"
        case .onFailure: "OnFailure"
        case .always: "Always"
        }
        let weaker = services.filter { strength($0.restart) < strength(strongest) }
        guard !weaker.isEmpty else { return (policy, nil) }
        let which = weaker.map { "'\(Printable.escape($0.name))' (restart = \"\($0.restart.rawValue)\")" }.joined(separator: ", ")
        let reason = kind == .deployment ? "a Deployment restarts every container that ends (restartPolicy Always)"
            : "a pod has one restart policy for all its containers: \(policy), from \(services.filter { $0.restart == strongest }.map { "'\(Printable.escape($0.name))'" }.joined(separator: ", "))"
        let after = strongest == .always ? "after any exit, a clean one too" : "after a failure"
        return (policy, "\(reason); \(which) \(weaker.count == 1 ? "is" : "are") started again \(after)")
    }

    private static func strength(_ restart: Manifest.Service.Restart) -> Int {
        switch restart {
        case .no: 0
        case .onFailure: 1
        case .always: 2
        }
    }

    // MARK: Containers

    private static func workspaceContainer(_ request: KubeRequest) throws -> YAMLNode {
        let shell = request.manifest.shell
        var fields: [(String, YAMLNode)] = [
            ("name", .string(workspaceName)), ("image", .string(request.image)),
            ("command", literal(idleCommand)), ("workingDir", .string(shell.workingDirectory)),
        ]
        let variables = try shellEnvironment(request)
        if !variables.isEmpty { fields.append(("env", environment(variables))) }
        fields.append(("volumeMounts", .list([workspaceMount(request, at: shell.mountPoint)])))
        fields.append(("securityContext", securityContext(runAs: request.runAs, capabilities: request.capabilities)))
        return .map(fields)
    }

    /// A command service runs in the environment image with the working tree, as `devenv up`
    /// starts it; an image service in its own image as that image's user.
    private static func serviceContainer(_ service: Manifest.Service, request: KubeRequest) throws -> YAMLNode {
        let ownImage = service.image != nil
        var fields: [(String, YAMLNode)] = [
            ("name", .string(try KubeName.label(service.name, what: "service name"))),
            ("image", .string(service.image?.value ?? request.image)),
        ]
        if let command = service.command { fields.append(("command", literal(command.value.arguments))) }
        if let workdir = service.workdir?.value ?? (ownImage ? nil : request.manifest.shell.workingDirectory) {
            fields.append(("workingDir", .string(workdir)))
        }
        let own = try service.env.map { (try variableName($0), $0.value) }
        let variables = ownImage ? own : merged(try shellEnvironment(request), own)
        if !variables.isEmpty { fields.append(("env", environment(variables))) }
        if !service.ports.isEmpty {
            fields.append(("ports", .list(service.ports.map { .map([("containerPort", .integer($0.value)), ("protocol", .string("TCP"))]) })))
        }
        if let probe = probe(service) {
            fields.append(("readinessProbe", .map(probe + [("periodSeconds", .integer(probePeriod))])))
            // `ready_timeout`: a service not ready by then is restarted (or, restart = "no", fails) as locally.
            let attempts = max(1, (service.readyTimeout + probePeriod - 1) / probePeriod)
            fields.append(("startupProbe", .map(probe + [("periodSeconds", .integer(probePeriod)), ("failureThreshold", .integer(attempts))])))
        }
        var mounts = ownImage ? [] : [workspaceMount(request, at: request.manifest.shell.mountPoint)]
        for volume in service.volumes {
            switch volume.source {
            case let .named(name):
                var mount: [(String, YAMLNode)] = [("name", .string(try KubeName.label("vol-" + name, what: "volume name"))), ("mountPath", .string(volume.target))]
                if volume.readOnly { mount.append(("readOnly", .boolean(true))) }
                mounts.append(.map(mount))
            case let .workingTree(relative):
                mounts.append(workspaceMount(request, at: volume.target, below: relative, readOnly: volume.readOnly))
            }
        }
        if !mounts.isEmpty { fields.append(("volumeMounts", .list(mounts))) }
        fields.append(("securityContext", securityContext(runAs: ownImage ? nil : request.runAs, capabilities: request.capabilities)))
        return .map(fields)
    }

    /// `git clone` of the remote, then a detached checkout of the commit: git run directly
    /// with the URL as one argument after `--`, no shell to read it.
    private static func cloneContainers(url: String, commit: String, image: String, runAs: KubeRequest.RunAs?, capabilities: [String]) -> [YAMLNode] {
        [(cloneName, ["git", "clone", "--quiet", "--no-checkout", "--", url, cloneMount]),
         (checkoutName, ["git", "-C", cloneMount, "checkout", "--quiet", "--detach", commit])].map { name, command in
            .map([
                ("name", .string(name)), ("image", .string(image)), ("command", literal(command)),
                ("volumeMounts", .list([.map([("name", .string(workspaceName)), ("mountPath", .string(cloneMount))])])),
                ("securityContext", securityContext(runAs: runAs, capabilities: capabilities)),
            ])
        }
    }

    /// The runtime's local defaults: no privilege escalation, only its default capabilities,
    /// non-root when the image's user is known to be (seccomp is the pod's).
    static func securityContext(runAs: KubeRequest.RunAs?, capabilities: [String]) -> YAMLNode {
        var fields: [(String, YAMLNode)] = [
            ("allowPrivilegeEscalation", .boolean(false)),
            ("capabilities", .map([("drop", strings(["ALL"])), ("add", strings(capabilities))])),
        ]
        if let runAs, runAs.uid != 0 {
            fields += [("runAsNonRoot", .boolean(true)), ("runAsUser", .integer(Int(runAs.uid))), ("runAsGroup", .integer(Int(runAs.gid)))]
        }
        return .map(fields)
    }

    /// `ready` as an exec probe, else the first port as a TCP probe, else none.
    private static func probe(_ service: Manifest.Service) -> [(String, YAMLNode)]? {
        if let ready = service.ready { return [("exec", .map([("command", strings(ready.value.arguments))]))] }
        if let port = service.ports.first { return [("tcpSocket", .map([("port", .integer(port.value))]))] }
        return nil
    }

    // MARK: Volumes

    /// The working tree, or a directory of it (`./dir` in a service's volumes).
    private static func workspaceMount(_ request: KubeRequest, at target: String, below relative: String = "", readOnly: Bool = false) -> YAMLNode {
        var subPath = relative.hasPrefix("./") ? String(relative.dropFirst(2)) : relative
        if subPath == "." { subPath = "" }
        if case let .clone(_, _, subdirectory, _) = request.workspace, !subdirectory.isEmpty {
            subPath = subPath.isEmpty ? subdirectory : subdirectory + "/" + subPath
        }
        var mount: [(String, YAMLNode)] = [("name", .string(workspaceName)), ("mountPath", .string(target))]
        if !subPath.isEmpty { mount.append(("subPath", .string(subPath))) }
        if readOnly { mount.append(("readOnly", .boolean(true))) }
        return .map(mount)
    }

    private static func workspaceVolume(_ workspace: KubeRequest.Workspace) -> YAMLNode {
        switch workspace {
        case .clone:
            return .map([("name", .string(workspaceName)), ("emptyDir", .map([]))])
        case let .host(path):
            return .map([("name", .string(workspaceName)), ("hostPath", .map([("path", .string(path)), ("type", .string("Directory"))]))])
        }
    }

    struct Claim {
        var volume: String
        var claim: String
    }

    /// Each named volume once (services may share one), by manifest name.
    private static func claimNames(_ services: [Manifest.Service], pod: String) throws -> [String: Claim] {
        var claims: [String: Claim] = [:]
        var byVolume: [String: String] = [:]
        for service in services {
            for volume in service.volumes {
                guard case let .named(name) = volume.source, claims[name] == nil else { continue }
                let claim = Claim(volume: try KubeName.label("vol-" + name, what: "volume name"),
                                  claim: try KubeName.subdomain(pod + "-" + name, what: "volume name"))
                if let other = byVolume.updateValue(name, forKey: claim.volume) {
                    throw KitError.kube(problem: "the volumes '\(Printable.escape(other))' and '\(Printable.escape(name))' would both be the Kubernetes volume '\(claim.volume)'\nhint: rename one of them in .devenv/devenv.toml")
                }
                claims[name] = claim
            }
        }
        return claims
    }

    private static func claimDocument(_ name: String, labels: YAMLNode, size: String) -> YAMLNode {
        .map([
            ("apiVersion", .string("v1")), ("kind", .string("PersistentVolumeClaim")),
            ("metadata", .map([("name", .string(name)), ("labels", labels)])),
            ("spec", .map([
                ("accessModes", strings(["ReadWriteOnce"])),
                ("resources", .map([("requests", .map([("storage", .string(size))]))])),
            ])),
        ])
    }

    // MARK: Values

    private static func strings(_ values: [String]) -> YAMLNode { .list(values.map { .string($0) }) }

    /// The kubelet expands `$(NAME)` in a container's command and environment values and
    /// reads `$$` as `$`; any other `$` stays as it is. Doubling each `$` that starts one of
    /// those two makes the value reach the container unchanged, as the runtime passes it (the
    /// shell in the command still expands its own `$1`, `$HOME`).
    static func literal(_ value: String) -> String {
        guard value.contains("$") else { return value }
        var out = ""
        var scalars = value.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let scalar = next {
            next = scalars.next()
            out.unicodeScalars.append(scalar)
            if scalar == "$", next == "(" || next == "$" { out += "$" }
        }
        return out
    }

    private static func literal(_ values: [String]) -> YAMLNode { .list(values.map { .string(literal($0)) }) }

    /// `[shell] env` as the session sees it: `$NAME` expanded against the image's
    /// environment and the variables before it (`PATH = "/opt/x/bin:$PATH"`).
    private static func shellEnvironment(_ request: KubeRequest) throws -> [(String, String)] {
        for variable in request.manifest.shell.env { _ = try variableName(variable) }
        let base = ProjectShell.expansionBase(request.imageEnvironment)
        return ProjectShell.expanding(request.manifest.shell.env, over: base).map { entry in
            let (name, value) = ConfigEditor.split(entry)
            return (name, value)
        }
    }

    /// Later definitions of a name win, as when the runtime builds the environment.
    private static func merged(_ base: [(String, String)], _ overrides: [(String, String)]) -> [(String, String)] {
        let overridden = Set(overrides.map(\.0))
        return base.filter { !overridden.contains($0.0) } + overrides
    }

    /// Kubernetes takes printable ASCII names without `=`; the manifest already refuses `=`,
    /// whitespace and control characters.
    private static func variableName(_ variable: Manifest.EnvironmentVariable) throws -> String {
        guard variable.name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw KitError.kube(problem: "environment variable '\(Printable.escape(variable.name))' (.devenv/devenv.toml:\(variable.location.line)): Kubernetes takes only printable ASCII names")
        }
        return variable.name
    }

    private static func environment(_ variables: [(String, String)]) -> YAMLNode {
        .list(variables.map { name, value in .map([("name", .string(name)), ("value", .string(literal(value)))]) })
    }
}

/// Kubernetes object names from manifest names: lower case letters, digits and `-`.
enum KubeName {
    /// A DNS label (containers, volumes, pods): at most 63 characters.
    static func label(_ text: String, what: String) throws -> String { try name(text, limit: 63, what: what) }

    /// A DNS subdomain (claims): at most 253 characters.
    static func subdomain(_ text: String, what: String) throws -> String { try name(text, limit: 253, what: what) }

    private static func name(_ text: String, limit: Int, what: String) throws -> String {
        var mapped = String(text.lowercased().unicodeScalars.map { scalar -> Character in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "-"
        })
        func trim() { mapped = String(mapped.drop { $0 == "-" }.reversed().drop { $0 == "-" }.reversed()) }
        trim()
        if mapped.count > limit { mapped = String(mapped.prefix(limit)); trim() }
        guard !mapped.isEmpty else {
            throw KitError.kube(problem: "\(what) '\(Printable.escape(text))' has no letter or digit to make a Kubernetes name of")
        }
        return mapped
    }
}
