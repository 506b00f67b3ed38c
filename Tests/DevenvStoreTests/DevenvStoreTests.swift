import XCTest

final class DevenvStoreTestsPlaceholder: XCTestCase {}
