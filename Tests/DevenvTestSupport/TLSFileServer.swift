import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTPS file server on 127.0.0.1 (Python's http.server behind its ssl module, on a
/// port it picks itself) with a throwaway CA made by `openssl` for the test: `caCertificate`
/// is the PEM file a client must be told to trust. Files under `put` are served with
/// `Last-Modified` from their mtime and an `ETag` of their bytes and mtime (as nginx makes
/// one), answering a matching `If-None-Match` with 304; `redirects` answer 302, anything else
/// 404. Every GET is logged (`requests`, `responses`). `stop()` ends it.
final class TLSFileServer: @unchecked Sendable {
    let scratch: Scratch
    let port: UInt16
    private let process = Process()

    var authority: String { "127.0.0.1:\(port)" }
    var base: String { "https://\(authority)" }
    /// The throwaway CA's certificate (world-readable, so a rootless devenv can read it).
    var caCertificate: String { scratch.file("ca.pem") }
    private var root: String { scratch.file("files") }

    init(redirects: [String: String] = [:]) throws {
        scratch = try Scratch("devenv-tls-server")
        chmod(scratch.path, 0o755)
        try FileManager.default.createDirectory(atPath: scratch.file("files"), withIntermediateDirectories: true)
        try Self.makeCertificates(in: scratch)
        try JSONSerialization.data(withJSONObject: redirects).write(to: URL(fileURLWithPath: scratch.file("redirects.json")))
        try Self.script.write(toFile: scratch.file("server.py"), atomically: true, encoding: .utf8)
        for log in ["requests.log", "responses.log", "server.log"] { _ = FileManager.default.createFile(atPath: scratch.file(log), contents: nil) }
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : try Tools.which("python3")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scratch.file("server.py"), scratch.file("files"), scratch.file("server.pem"), scratch.file("server.key"),
                             scratch.file("redirects.json"), scratch.file("requests.log"), scratch.file("port")]
        let log = FileHandle(forWritingAtPath: scratch.file("server.log"))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: scratch.file("port"), encoding: .utf8), let port = UInt16(text) {
                self.port = port
                return
            }
            if !process.isRunning { break }
            usleep(25_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw TestFailure("the TLS file server did not start: \((try? String(contentsOfFile: scratch.file("server.log"), encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            // SIGKILL: a signal the test process ignores stays ignored in its children.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Serves `contents` at `/path`, with `modified` as its mtime (its `Last-Modified`).
    func put(_ path: String, _ contents: Data, modified: Date? = nil) throws {
        let file = root + "/" + path
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(to: URL(fileURLWithPath: file))
        if let modified { try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: file) }
    }

    /// The paths GET requests asked for, in order.
    var requests: [String] {
        ((try? String(contentsOfFile: scratch.file("requests.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// `STATUS /path` of each file or redirect answered, in order.
    var responses: [String] {
        ((try? String(contentsOfFile: scratch.file("responses.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func clearRequests() {
        _ = FileManager.default.createFile(atPath: scratch.file("requests.log"), contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.file("responses.log"), contents: nil)
    }

    /// A CA (`ca.pem`) and a server certificate it signs for 127.0.0.1 and localhost.
    private static func makeCertificates(in scratch: Scratch) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Tools.run("openssl", ["req", "-x509"] + ec + ["-keyout", scratch.file("ca.key"), "-out", scratch.file("ca.pem"), "-days", "2",
                                  "-subj", "/CN=devenv test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try Tools.run("openssl", ["req"] + ec + ["-keyout", scratch.file("server.key"), "-out", scratch.file("server.csr"), "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: scratch.file("server.ext"), atomically: true, encoding: .utf8)
        try Tools.run("openssl", ["x509", "-req", "-in", scratch.file("server.csr"), "-CA", scratch.file("ca.pem"), "-CAkey", scratch.file("ca.key"),
                                  "-CAcreateserial", "-out", scratch.file("server.pem"), "-days", "2", "-extfile", scratch.file("server.ext")])
        chmod(scratch.file("ca.pem"), 0o644)
    }

    private static let script = """
        import hashlib, http.server, json, os, ssl, sys
        root, cert, key, redirects_path, log_path, port_path = sys.argv[1:7]
        responses_path = os.path.join(os.path.dirname(log_path), "responses.log")
        with open(redirects_path) as f:
            redirects = json.load(f)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def answered(self, status):
                with open(responses_path, "a") as log:
                    log.write("%d %s\\n" % (status, self.path))

            def do_GET(self):
                with open(log_path, "a") as log:
                    log.write(self.path + "\\n")
                target = redirects.get(self.path)
                if target is not None:
                    self.answered(302)
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path = self.translate_path(self.path)
                if not os.path.isfile(path):
                    super().do_GET()
                    return
                with open(path, "rb") as f:
                    data = f.read()
                mtime = os.stat(path).st_mtime
                etag = '"%s"' % hashlib.sha256(data + str(int(mtime)).encode()).hexdigest()[:20]
                if self.headers.get("If-None-Match") == etag:
                    self.answered(304)
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.answered(200)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Last-Modified", self.date_time_string(mtime))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        with open(port_path + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(port_path + ".tmp", port_path)
        server.serve_forever()

        """
}
