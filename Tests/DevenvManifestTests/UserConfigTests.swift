import DevenvManifest
import Testing

@Suite struct UserConfigTests {
    @Test func readsTheStoreBudget() throws {
        #expect(try UserConfig.parse(Array("[store]\nmax-size = \"10GB\"\n".utf8), path: "config.toml").storeMaxSize == .bytes(10_000_000_000))
        #expect(try UserConfig.parse(Array("store.max-size = \"512MiB\"".utf8), path: "c").storeMaxSize == .bytes(512 << 20))
        #expect(try UserConfig.parse(Array("[store]\nmax-size = 4096".utf8), path: "c").storeMaxSize == .bytes(4096))
        #expect(try UserConfig.parse(Array("[store]\nmax-size = \"off\"".utf8), path: "c").storeMaxSize == .off)
        #expect(try UserConfig.parse([], path: "c").storeMaxSize == .automatic)
    }

    @Test func mistakesNameFileLineAndColumn() {
        let cases: [(String, String)] = [
            ("[store]\nmax-size = \"ten gigs\"\n", "config.toml:2:12: error: store.max-size: 'ten gigs' is not a size"),
            ("[store]\nmaxsize = \"1GB\"\n", "config.toml:2:1: error: unknown key 'store.maxsize'"),
            ("[stor]\n", "config.toml:1:2: error: unknown key 'stor'"),
            ("[store]\nmax-size = true\n", "config.toml:2:12: error: store.max-size must be a size"),
            ("[store\n", "config.toml:1:"),
        ]
        for (text, expected) in cases {
            do {
                _ = try UserConfig.parse(Array(text.utf8), path: "config.toml")
                Issue.record("accepted \(text)")
            } catch let error as ManifestError {
                #expect(error.description.hasPrefix(expected), "\(error.description)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func byteSizes() {
        #expect(ByteSize.parse("10GB") == 10_000_000_000)
        #expect(ByteSize.parse("1.5 GiB") == 1_610_612_736)
        #expect(ByteSize.parse("800k") == 800_000)
        #expect(ByteSize.parse("0") == 0)
        #expect(ByteSize.parse("12 parsecs") == nil)
        #expect(ByteSize.parse("") == nil)
        #expect(ByteSize.parse("-1GB") == nil)
        #expect(ByteSize.parse("99999999999TB") == nil)
    }
}
