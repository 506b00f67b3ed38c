import XCTest

final class DevenvManifestTestsPlaceholder: XCTestCase {}
