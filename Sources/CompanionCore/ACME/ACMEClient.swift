// ACMEClient: one certificate order over RFC 8555, blocking, on the ACME thread: the
// directory, a nonce, the account (created or found by its key, §7.3), a new order for
// the site's names (§7.4), each authorization's HTTP-01 challenge (§8.3) answered from
// memory by the loops, a CSR for a fresh key, the finalized order and its certificate
// chain. Every POST is a JWS signed with the account key (§6.2); a badNonce error is
// retried with the nonce it carries (§6.5).
import Glibc

final class ACMEClient {
    private let config: ACMEConfig
    private let http: HTTPSClient
    private let accountKey: ACMEKey
    private let directoryURL: HTTPSURL
    private var directory: (newNonce: HTTPSURL, newAccount: HTTPSURL, newOrder: HTTPSURL)?
    private var nonce: String?
    private var accountURL: String?
    /// How long to wait between polls of a pending authorization or order.
    var pollMilliseconds = 500
    /// Polls before giving up on one authorization or order.
    var maxPolls = 120

    init(config: ACMEConfig, accountKey: ACMEKey) throws(ACMEError) {
        guard let url = HTTPSURL(config.directory) else { throw ACMEError("acme.directory: not an https:// URL") }
        self.config = config
        self.directoryURL = url
        self.accountKey = accountKey
        self.http = try HTTPSClient(trustedRoots: config.trustedRoots)
    }

    /// Orders a certificate for `names`. `publish`/`withdraw` make the HTTP-01 answers
    /// visible to the loops. Returns the PEM chain and the PEM of its new key.
    func issue(names: [String], publish: (String, String) -> Void, withdraw: (String) -> Void) throws(ACMEError) -> (chain: [UInt8], key: [UInt8]) {
        let directory = try loadDirectory()
        let account = try ensureAccount(directory.newAccount)
        let identifiers = names.map { #"{"type":"dns","value":"# + jsonString($0) + "}" }.joined(separator: ",")
        let created = try post(directory.newOrder, payload: #"{"identifiers":["# + identifiers + "]}", kid: account)
        guard created.response.status == 201, let orderURL = created.response.header("location").flatMap(HTTPSURL.init) else {
            throw problem("new order", created.response)
        }
        let order = created.json
        let thumbprint = accountKey.thumbprint()
        var published: [String] = []
        defer { for token in published { withdraw(token) } }
        for authorization in order["authorizations"]?.arrayValue ?? [] {
            guard let text = authorization.stringValue, let url = HTTPSURL(text) else { throw ACMEError("order: bad authorization URL") }
            let current = try post(url, payload: nil, kid: account)
            if current.json["status"]?.stringValue == "valid" { continue }
            guard let challenge = current.json["challenges"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "http-01" }),
                  let token = challenge["token"]?.stringValue, let challengeURL = challenge["url"]?.stringValue.flatMap(HTTPSURL.init),
                  token.utf8.allSatisfy({ Base64URL.isURLSafe($0) }) else {
                throw ACMEError("\(current.json["identifier"]?["value"]?.stringValue ?? "authorization"): the CA offers no http-01 challenge")
            }
            publish(token, token + "." + thumbprint)
            published.append(token)
            let answered = try post(challengeURL, payload: "{}", kid: account)
            guard answered.response.status == 200 else { throw problem("challenge", answered.response) }
            let final = try poll(url, kid: account, until: ["valid", "invalid"])
            guard final["status"]?.stringValue == "valid" else {
                let detail = final["challenges"]?.arrayValue?.compactMap { $0["error"]?["detail"]?.stringValue }.first ?? "no detail"
                throw ACMEError("\(final["identifier"]?["value"]?.stringValue ?? "authorization") is invalid: \(detail)")
            }
        }
        guard let finalize = order["finalize"]?.stringValue.flatMap(HTTPSURL.init) else { throw ACMEError("order: no finalize URL") }
        let certificateKey = try ACMEKey.generate()
        let csr = try certificateKey.certificateRequest(names: names)
        let finalized = try post(finalize, payload: #"{"csr":""# + Base64URL.encode(csr) + #""}"#, kid: account)
        guard finalized.response.status == 200 else { throw problem("finalize", finalized.response) }
        var done = finalized.json
        if done["status"]?.stringValue != "valid" { done = try poll(orderURL, kid: account, until: ["valid", "invalid"]) }
        guard done["status"]?.stringValue == "valid", let certificateURL = done["certificate"]?.stringValue.flatMap(HTTPSURL.init) else {
            throw ACMEError("order \(orderURL) ended \(done["status"]?.stringValue ?? "without a status")")
        }
        let download = try post(certificateURL, payload: nil, kid: account, accept: "application/pem-certificate-chain")
        guard download.response.status == 200 else { throw problem("certificate download", download.response) }
        return (download.response.body, try certificateKey.pem())
    }

    // MARK: - Protocol steps

    private func loadDirectory() throws(ACMEError) -> (newNonce: HTTPSURL, newAccount: HTTPSURL, newOrder: HTTPSURL) {
        if let directory { return directory }
        let response = try http.request("GET", directoryURL)
        guard response.status == 200, let json = try? JSONValue.parse(response.body),
              let newNonce = json["newNonce"]?.stringValue.flatMap(HTTPSURL.init),
              let newAccount = json["newAccount"]?.stringValue.flatMap(HTTPSURL.init),
              let newOrder = json["newOrder"]?.stringValue.flatMap(HTTPSURL.init) else {
            throw ACMEError("\(directoryURL): not an ACME directory (status \(response.status))")
        }
        directory = (newNonce, newAccount, newOrder)
        return (newNonce, newAccount, newOrder)
    }

    private func ensureAccount(_ newAccount: HTTPSURL) throws(ACMEError) -> String {
        if let accountURL { return accountURL }
        var payload = #"{"termsOfServiceAgreed":"# + (config.agreeToTerms ? "true" : "false")
        if let email = config.email { payload += #","contact":["# + jsonString("mailto:" + email) + "]" }
        payload += "}"
        let result = try post(newAccount, payload: payload, kid: nil)
        guard result.response.status == 200 || result.response.status == 201, let location = result.response.header("location") else {
            throw problem("account", result.response)
        }
        accountURL = location
        return location
    }

    /// Polls a POST-as-GET resource until its status is one of `until`.
    private func poll(_ url: HTTPSURL, kid: String, until: Set<String>) throws(ACMEError) -> JSONValue {
        for _ in 0..<maxPolls {
            let current = try post(url, payload: nil, kid: kid)
            if let status = current.json["status"]?.stringValue, until.contains(status) { return current.json }
            var wait = pollMilliseconds
            if let retry = current.response.header("retry-after").flatMap(Int.init) { wait = min(max(wait, retry * 1000), 10_000) }
            usleep(useconds_t(wait * 1000))
        }
        throw ACMEError("\(url) did not finish")
    }

    private func freshNonce() throws(ACMEError) -> String {
        if let nonce {
            self.nonce = nil
            return nonce
        }
        guard let directory else { throw ACMEError("no directory") }
        let response = try http.request("HEAD", directory.newNonce)
        guard let nonce = response.header("replay-nonce") else { throw ACMEError("\(directory.newNonce): no Replay-Nonce") }
        return nonce
    }

    /// A signed POST (POST-as-GET when `payload` is nil); retries a rejected nonce.
    private func post(_ url: HTTPSURL, payload: String?, kid: String?, accept: String? = nil)
        throws(ACMEError) -> (response: HTTPSResponse, json: JSONValue) {
        for _ in 0..<5 {
            let nonce = try freshNonce()
            var protected = #"{"alg":"ES256","nonce":"# + jsonString(nonce) + #","url":"# + jsonString(url.description)
            if let kid {
                protected += #","kid":"# + jsonString(kid) + "}"
            } else {
                protected += #","jwk":"# + accountKey.jwk() + "}"
            }
            let protectedPart = Base64URL.encode(protected)
            let payloadPart = payload.map { Base64URL.encode($0) } ?? ""
            let signature = try accountKey.sign(Array((protectedPart + "." + payloadPart).utf8))
            let body = #"{"protected":""# + protectedPart + #"","payload":""# + payloadPart + #"","signature":""#
                + Base64URL.encode(signature) + #""}"#
            var headers = [("Content-Type", "application/jose+json")]
            if let accept { headers.append(("Accept", accept)) }
            let response = try http.request("POST", url, headers: headers, body: Array(body.utf8))
            self.nonce = response.header("replay-nonce")
            let json = (try? JSONValue.parse(response.body)) ?? .null
            if response.status == 400, json["type"]?.stringValue == "urn:ietf:params:acme:error:badNonce" { continue }
            return (response, json)
        }
        throw ACMEError("\(url): the CA kept rejecting nonces")
    }

    private func problem(_ step: String, _ response: HTTPSResponse) -> ACMEError {
        let json = (try? JSONValue.parse(response.body)) ?? .null
        let detail = json["detail"]?.stringValue ?? json["type"]?.stringValue ?? "status \(response.status)"
        return ACMEError("\(step): \(detail)")
    }
}

extension Base64URL {
    /// A byte of the base64url alphabet (a challenge token must consist of these, §8.3).
    static func isURLSafe(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
    }
}
