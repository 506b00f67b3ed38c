import XCTest

final class DevenvBuildTestsPlaceholder: XCTestCase {}
