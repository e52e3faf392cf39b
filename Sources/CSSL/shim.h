#pragma once
// OpenSSL 3 (libssl-dev) for companion's HTTPS. Many of OpenSSL's setters are macros
// over SSL_CTX_ctrl/SSL_ctrl/SSL_CTX_callback_ctrl that Swift cannot import; each one
// companion uses has a static inline function here with the same meaning.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

static inline long companion_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long companion_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long companion_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long companion_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline int companion_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline long companion_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}
static inline long companion_SSL_CTX_set_tlsext_servername_arg(SSL_CTX *ctx, void *arg) {
    return SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
static inline long companion_SSL_CTX_set_tlsext_ticket_key_evp_cb(
    SSL_CTX *ctx, int (*cb)(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int)) {
    return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, cb);
}
static inline long companion_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
/// No renegotiation or compression (CRIME), the server's cipher order, and a peer that
/// closes without close_notify reads as an end of stream (curl and wrk often do).
static inline long companion_SSL_options(void) {
    return (long)(SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE
                  | SSL_OP_IGNORE_UNEXPECTED_EOF);
}
static inline long companion_SSL_CTX_set_read_ahead(SSL_CTX *ctx, long yes) {
    return SSL_CTX_set_read_ahead(ctx, yes);
}
static inline long companion_SSL_modes(void) {
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS;
}

/// The ticket-key callback's crypto: AES-256-CBC with `aes_key` and HMAC-SHA256 with
/// `hmac_key` (OpenSSL's own default construction), set up on the contexts OpenSSL passes.
static inline int companion_ticket_crypto_init(EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
                                               const unsigned char *aes_key, unsigned char *iv,
                                               const unsigned char *hmac_key, int encrypt) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)hmac_key, 32);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(hctx, params) != 1) return 0;
    if (encrypt) {
        return EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, aes_key, iv);
    }
    return EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, aes_key, iv);
}

/// X509_get_notAfter/X509_get_notBefore are macros in OpenSSL 3.
static inline const ASN1_TIME *companion_X509_notAfter(const X509 *cert) { return X509_get0_notAfter(cert); }
static inline const ASN1_TIME *companion_X509_notBefore(const X509 *cert) { return X509_get0_notBefore(cert); }

/// sk_GENERAL_NAME_* are macros over OPENSSL_sk_*.
static inline int companion_general_names_count(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline GENERAL_NAME *companion_general_names_at(const GENERAL_NAMES *names, int i) { return sk_GENERAL_NAME_value(names, i); }
static inline void companion_general_names_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }
static inline void companion_x509_stack_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
static inline STACK_OF(X509) *companion_x509_stack_new(void) { return sk_X509_new_null(); }
static inline int companion_x509_stack_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
static inline int companion_x509_extensions_push(STACK_OF(X509_EXTENSION) **stack, X509_EXTENSION *ext) {
    if (*stack == NULL) *stack = sk_X509_EXTENSION_new_null();
    return sk_X509_EXTENSION_push(*stack, ext);
}
static inline void companion_x509_extensions_free(STACK_OF(X509_EXTENSION) *stack) {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}

// ---- ACME (RFC 8555): account and certificate keys, ES256 signatures, CSRs ----

/// A new ECDSA P-256 key (EVP_EC_gen is a macro over a variadic function).
static inline EVP_PKEY *companion_ec_p256_generate(void) {
    return EVP_EC_gen("P-256");
}

static inline void companion_openssl_free(void *pointer) { OPENSSL_free(pointer); }

/// The P-256 public key's affine coordinates, 32 bytes each, into out[0..<64]. 1 on success.
static inline int companion_ec_public_xy(EVP_PKEY *key, unsigned char *out) {
    unsigned char point[65];
    size_t length = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &length) != 1) return 0;
    if (length != 65 || point[0] != 0x04) return 0;
    memcpy(out, point + 1, 64);
    return 1;
}

/// ES256 (RFC 7518 §3.4): ECDSA P-256 over SHA-256, the signature as r || s, 32 bytes each
/// (not DER), into out[0..<64]. 1 on success.
static inline int companion_es256_sign(EVP_PKEY *key, const unsigned char *data, size_t length, unsigned char *out) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) return 0;
    unsigned char der[128];
    size_t derLength = sizeof(der);
    int ok = EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) == 1
          && EVP_DigestSign(context, der, &derLength, data, length) == 1;
    EVP_MD_CTX_free(context);
    if (!ok) return 0;
    const unsigned char *cursor = der;
    ECDSA_SIG *signature = d2i_ECDSA_SIG(NULL, &cursor, (long)derLength);
    if (signature == NULL) return 0;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(signature, &r, &s);
    ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
    ECDSA_SIG_free(signature);
    return ok;
}

/// A PKCS#10 request for `key` with subject CN `common_name` and subjectAltName `san`
/// ("DNS:a.example,DNS:b.example"), DER-encoded into *out (free with companion_openssl_free).
/// Returns the length, or -1.
static inline int companion_make_csr_der(EVP_PKEY *key, const char *common_name, const char *san, unsigned char **out) {
    X509_REQ *request = X509_REQ_new();
    if (request == NULL) return -1;
    int length = -1;
    X509_NAME *name = X509_REQ_get_subject_name(request);
    STACK_OF(X509_EXTENSION) *extensions = NULL;
    X509_EXTENSION *alt = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, (char *)san);
    if (X509_REQ_set_version(request, 0) == 1
        && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) == 1
        && X509_REQ_set_pubkey(request, key) == 1
        && alt != NULL && companion_x509_extensions_push(&extensions, alt) > 0
        && X509_REQ_add_extensions(request, extensions) == 1
        && X509_REQ_sign(request, key, EVP_sha256()) > 0) {
        alt = NULL;   // owned by the stack now
        *out = NULL;
        length = i2d_X509_REQ(request, out);
    }
    if (alt != NULL) X509_EXTENSION_free(alt);
    if (extensions != NULL) companion_x509_extensions_free(extensions);
    X509_REQ_free(request);
    return length;
}

/// A private key as PKCS#8 PEM into *out (free with companion_openssl_free). Returns the length or -1.
static inline int companion_private_key_pem(EVP_PKEY *key, char **out) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return -1;
    int length = -1;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data = NULL;
        long size = BIO_get_mem_data(bio, &data);
        if (size > 0 && (*out = OPENSSL_malloc((size_t)size)) != NULL) {
            memcpy(*out, data, (size_t)size);
            length = (int)size;
        }
    }
    BIO_free(bio);
    return length;
}

/// Reads a PEM private key from memory.
static inline EVP_PKEY *companion_private_key_from_pem(const unsigned char *pem, int length) {
    BIO *bio = BIO_new_mem_buf(pem, length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

/// SHA-256 of data into out[0..<32].
static inline int companion_sha256(const unsigned char *data, size_t length, unsigned char *out) {
    unsigned int outLength = 0;
    return EVP_Digest(data, length, out, &outLength, EVP_sha256(), NULL) == 1 && outLength == 32;
}

// ---- Reads on a non-blocking socket BIO: was the last one short? ----

/// BIO callback on a connection's socket BIO: after each raw read, *flag becomes 1 when it
/// returned fewer bytes than asked (the socket is drained for now), 2 when it returned none
/// (EAGAIN or EOF), 0 when it filled the request. Lets the event loop skip the read that
/// would only say EAGAIN, as it does for plain TCP.
static long companion_bio_read_watch(BIO *bio, int operation, const char *argp, size_t length, int argi, long argl,
                                     int ret, size_t *processed) {
    (void)argp; (void)argi; (void)argl;
    if (operation == (BIO_CB_READ | BIO_CB_RETURN)) {
        int *flag = (int *)BIO_get_callback_arg(bio);
        if (flag != NULL) {
            size_t got = (ret > 0 && processed != NULL) ? *processed : 0;
            *flag = got == 0 ? 2 : (got < length ? 1 : 0);
        }
    }
    return ret;
}

static inline void companion_watch_reads(SSL *ssl, int *flag) {
    BIO *bio = SSL_get_rbio(ssl);
    if (bio == NULL) return;
    BIO_set_callback_ex(bio, companion_bio_read_watch);
    BIO_set_callback_arg(bio, (char *)flag);
}

// ---- Writes: a socket BIO that can say MSG_MORE ----

/// A connection's write BIO: send(2) on the socket, with MSG_MORE while `more` is set, so
/// the records of one file chunk (SSL_write returns after each 16 KiB record) and a
/// response head followed by its body leave as full segments rather than one segment per
/// record, as plain TCP's MSG_MORE and sendfile do. Reads stay on OpenSSL's socket BIO.
struct companion_wbio {
    int fd;
    int more;
};

static int companion_wbio_write(BIO *bio, const char *data, int length) {
    struct companion_wbio *state = (struct companion_wbio *)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (state == NULL || length < 0) return -1;
    ssize_t n;
    do {
        n = send(state->fd, data, (size_t)length, MSG_NOSIGNAL | (state->more ? MSG_MORE : 0));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
        return -1;
    }
    return (int)n;
}

/// Flushing is a no-op (every write goes straight to the socket); everything else this BIO
/// does not have (kernel TLS, pending counts) answers 0.
static long companion_wbio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

static int companion_wbio_destroy(BIO *bio) {
    free(BIO_get_data(bio));
    BIO_set_data(bio, NULL);
    BIO_set_init(bio, 0);
    return 1;
}

/// The method, made once (TLSSession keeps it in a Swift global, initialised once).
static inline BIO_METHOD *companion_wbio_method_new(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "companion socket write");
    if (method == NULL) return NULL;
    BIO_meth_set_write(method, companion_wbio_write);
    BIO_meth_set_ctrl(method, companion_wbio_ctrl);
    BIO_meth_set_destroy(method, companion_wbio_destroy);
    return method;
}

/// Gives `ssl` a write BIO of `method` on `fd` (after SSL_set_fd, which set the socket BIO
/// for both directions; that one keeps reading). Returns the BIO (owned by `ssl`), or NULL.
static inline BIO *companion_wbio_attach(SSL *ssl, BIO_METHOD *method, int fd) {
    struct companion_wbio *state = (struct companion_wbio *)calloc(1, sizeof(struct companion_wbio));
    if (state == NULL) return NULL;
    BIO *bio = BIO_new(method);
    if (bio == NULL) {
        free(state);
        return NULL;
    }
    state->fd = fd;
    BIO_set_data(bio, state);
    BIO_set_init(bio, 1);
    SSL_set0_wbio(ssl, bio);
    return bio;
}

/// Whether the next writes say MSG_MORE.
static inline void companion_wbio_set_more(BIO *bio, int more) {
    struct companion_wbio *state = (struct companion_wbio *)BIO_get_data(bio);
    if (state != NULL) state->more = more;
}
