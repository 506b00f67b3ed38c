import Testing
@testable import DevenvManifest

@Suite struct LimitsManifestTests {
    @Test func valuesStayAsWrittenWithTheirLocations() throws {
        let manifest = try parse("[base]\nimage = \"x\"\n\n[limits]\nmemory = \"4g\"\npids = 512\ncpus = 0.5\n")
        #expect(manifest.limits.memory?.value == "4g")
        #expect(manifest.limits.memory?.location.line == 5)
        #expect(manifest.limits.pids?.value == "512")
        #expect(manifest.limits.cpus?.value == "0.5")
        #expect(manifest.limits.shmSize == nil)
    }

    @Test func noTableMeansNoLimitsWritten() throws {
        #expect(try parse("[base]\nimage = \"x\"\n").limits.isEmpty)
    }

    @Test func wrongTypesAndKeysAreLocated() throws {
        let error = try #require(manifestError("[base]\nimage = \"x\"\n\n[limits]\nmemory = true\nmemroy = \"1g\"\n"))
        let lines = error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        #expect(lines.contains("5:10: limits.memory: expected a string or a number, found a boolean"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("6:1: unknown key 'memroy' in [limits] (did you mean 'memory'?)") }, "\(lines)")
    }

    @Test func misplacedLimitKeysPointAtTheTable() throws {
        let error = try #require(manifestError("memory = \"1g\"\n[base]\nimage = \"x\"\n"))
        #expect(error.diagnostics.contains { $0.message.contains("[limits]") }, "\(error.diagnostics.map(\.message))")
    }
}
