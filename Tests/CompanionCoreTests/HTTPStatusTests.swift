import Testing
@testable import CompanionCore

@Suite struct HTTPStatusTests {
    @Test func bodiesAreForbiddenFor204And304() {
        #expect(!HTTPStatus.noContent.allowsBody)
        #expect(!HTTPStatus.notModified.allowsBody)
        #expect(HTTPStatus.ok.allowsBody)
        #expect(HTTPStatus.notFound.description == "404 Not Found")
    }
}
