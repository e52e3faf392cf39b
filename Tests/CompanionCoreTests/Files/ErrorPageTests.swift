// ErrorPage: status and reason only, cached pages equal freshly rendered ones.
import Testing
@testable import CompanionCore

@Suite struct ErrorPageTests {
    @Test(arguments: [400, 403, 404, 405, 416, 500, 505, 418])
    func namesTheStatusOnly(code: Int) {
        let status = HTTPStatus(code)
        let page = String(decoding: ErrorPage.html(status), as: UTF8.self)
        #expect(page.hasPrefix("<!DOCTYPE html>\n"))
        #expect(page.contains("<title>\(status.description)</title>"))
        #expect(page.contains("<h1>\(status.description)</h1>"))
        #expect(!page.contains("<script"))
        #expect(!page.contains("/tmp") && !page.contains("/srv"))
    }

    @Test func exactNotFoundPage() {
        #expect(String(decoding: ErrorPage.html(.notFound), as: UTF8.self) == """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>404 Not Found</title>
            </head>
            <body>
            <h1>404 Not Found</h1>
            <hr>
            <p>companion</p>
            </body>
            </html>

            """)
    }
}
