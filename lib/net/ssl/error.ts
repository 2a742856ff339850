/**
 * The TLS errors (Asio's `ssl::error` and its `asio.ssl` category): the stream errors Asio names
 * (`streamTruncated`…), and codes for the failures Node's TLS layer reports by name (certificate
 * verification, handshake alerts, protocol errors), so a failed handshake completes with a code a
 * caller can compare with `===` or test with `ec.matches(ssl.condition.verificationFailed)`.
 * Pure data and one conversion; no I/O.
 */

import { constants as osConstants } from 'node:os';
import { ErrorCategory, ErrorCondition, fromNodeError, type ErrorCode } from '../error.js';

/** Our values, with their messages; names not listed get a value of their own from 1000 on. */
const named: ReadonlyArray<readonly [value: number, key: string, message: string]> = [
  [1, 'streamTruncated', 'stream truncated (the peer closed the connection without a TLS close_notify)'],
  [2, 'unspecifiedSystemError', 'unspecified system error'],
  [3, 'unexpectedResult', 'unexpected result'],
  [10, 'hostnameMismatch', "the peer's certificate does not match the expected host name"],
  [11, 'selfSignedCertificate', 'self-signed certificate'],
  [12, 'selfSignedCertificateInChain', 'self-signed certificate in certificate chain'],
  [13, 'unableToGetIssuerCertificate', 'unable to get local issuer certificate'],
  [14, 'unableToVerifyLeafSignature', 'unable to verify the first certificate'],
  [15, 'certificateExpired', 'certificate has expired'],
  [16, 'certificateNotYetValid', 'certificate is not yet valid'],
  [17, 'certificateRevoked', 'certificate revoked'],
  [18, 'certificateSignatureFailure', 'certificate signature failure'],
  [19, 'certificateChainTooLong', 'certificate chain too long'],
  [20, 'invalidCa', 'invalid CA certificate'],
  [21, 'certificateUntrusted', 'certificate not trusted'],
  [22, 'certificateRejected', 'certificate rejected'],
  [23, 'invalidPurpose', 'unsupported certificate purpose'],
  [24, 'noPeerCertificate', 'the peer did not return a certificate'],
  [25, 'certificateVerifyFailed', 'certificate verification failed'],
  [30, 'handshakeFailure', 'TLS handshake failure'],
  [31, 'wrongVersionNumber', 'wrong version number (the peer does not speak TLS)'],
  [32, 'unsupportedProtocol', 'unsupported protocol version'],
  [33, 'badRecordMac', 'decryption failed or bad record MAC'],
  [34, 'noSharedCipher', 'no shared cipher'],
  [35, 'handshakeTimeout', 'TLS handshake timeout'],
];

const messages = new Map<number, string>(named.map(([v, , m]) => [v, m]));
const extraNames: string[] = [];

/** Asio's `asio.ssl` category. */
export const sslCategory = new ErrorCategory('asio.ssl', (value) => {
  const m = messages.get(value);
  if (m !== undefined) return m;
  const name = extraNames[value - 1000];
  return name !== undefined ? `TLS error ${name}` : `asio.ssl error ${value}`;
});

type Key =
  | 'streamTruncated' | 'unspecifiedSystemError' | 'unexpectedResult' | 'hostnameMismatch'
  | 'selfSignedCertificate' | 'selfSignedCertificateInChain' | 'unableToGetIssuerCertificate'
  | 'unableToVerifyLeafSignature' | 'certificateExpired' | 'certificateNotYetValid'
  | 'certificateRevoked' | 'certificateSignatureFailure' | 'certificateChainTooLong' | 'invalidCa'
  | 'certificateUntrusted' | 'certificateRejected' | 'invalidPurpose' | 'noPeerCertificate'
  | 'certificateVerifyFailed' | 'handshakeFailure' | 'wrongVersionNumber' | 'unsupportedProtocol'
  | 'badRecordMac' | 'noSharedCipher' | 'handshakeTimeout';

/**
 * The `ssl.error` values. `streamTruncated` (Asio's `ssl::error::stream_truncated`): the transport
 * ended without the peer's close_notify, so the end of the data is not authenticated. The
 * certificate values name the reason a peer's certificate was refused; `handshakeFailure`,
 * `wrongVersionNumber`, `noSharedCipher`… the reason a handshake failed. Other names Node reports
 * (the many `ERR_SSL_*_ALERT_*` a peer can send) get codes of their own, see {@link fromTlsError}.
 */
export const error: Readonly<Record<Key, ErrorCode>> = Object.freeze(
  Object.fromEntries(named.map(([v, k]) => [k, sslCategory.code(v)])) as Record<Key, ErrorCode>,
);

/** Node's names for certificate verification failures (OpenSSL's `X509_V_ERR_*`, and Node's own). */
const verifyNames: Readonly<Record<string, ErrorCode>> = {
  ERR_TLS_CERT_ALTNAME_INVALID: error.hostnameMismatch,
  HOSTNAME_MISMATCH: error.hostnameMismatch,
  DEPTH_ZERO_SELF_SIGNED_CERT: error.selfSignedCertificate,
  SELF_SIGNED_CERT_IN_CHAIN: error.selfSignedCertificateInChain,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: error.unableToGetIssuerCertificate,
  UNABLE_TO_GET_ISSUER_CERT: error.unableToGetIssuerCertificate,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: error.unableToVerifyLeafSignature,
  CERT_HAS_EXPIRED: error.certificateExpired,
  CERT_NOT_YET_VALID: error.certificateNotYetValid,
  CERT_REVOKED: error.certificateRevoked,
  CERT_SIGNATURE_FAILURE: error.certificateSignatureFailure,
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: error.certificateSignatureFailure,
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: error.certificateSignatureFailure,
  CERT_CHAIN_TOO_LONG: error.certificateChainTooLong,
  PATH_LENGTH_EXCEEDED: error.certificateChainTooLong,
  INVALID_CA: error.invalidCa,
  CERT_UNTRUSTED: error.certificateUntrusted,
  CERT_REJECTED: error.certificateRejected,
  INVALID_PURPOSE: error.invalidPurpose,
  ERROR_IN_CERT_NOT_BEFORE_FIELD: error.certificateNotYetValid,
  ERROR_IN_CERT_NOT_AFTER_FIELD: error.certificateExpired,
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: error.noPeerCertificate,
};

/** Node's (OpenSSL's) names for handshake and record failures. */
const protocolNames: Readonly<Record<string, ErrorCode>> = {
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: error.handshakeFailure,
  ERR_SSL_HANDSHAKE_FAILURE: error.handshakeFailure,
  ERR_SSL_WRONG_VERSION_NUMBER: error.wrongVersionNumber,
  ERR_SSL_UNSUPPORTED_PROTOCOL: error.unsupportedProtocol,
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: error.unsupportedProtocol,
  ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC: error.badRecordMac,
  ERR_SSL_BAD_RECORD_MAC: error.badRecordMac,
  ERR_SSL_NO_SHARED_CIPHER: error.noSharedCipher,
  ERR_TLS_HANDSHAKE_TIMEOUT: error.handshakeTimeout,
  ERR_SSL_UNEXPECTED_EOF_WHILE_READING: error.streamTruncated,
};

/**
 * The `ssl.condition` values. `verificationFailed` matches every code saying that the peer's
 * certificate was refused (chain, dates, name, absence); `handshakeFailed` every code of this
 * category except `streamTruncated`.
 */
export const condition = Object.freeze({
  verificationFailed: new ErrorCondition('ssl.verificationFailed', [
    ...new Set([...Object.values(verifyNames), error.certificateVerifyFailed]),
  ]),
  handshakeFailed: new ErrorCondition(
    'ssl.handshakeFailed',
    (ec) => ec.category === sslCategory && ec !== error.streamTruncated,
  ),
});

/** Whether `name` looks like a TLS failure rather than a transport one. */
function isTlsName(name: string): boolean {
  if (name.startsWith('ERR_SSL_') || name.startsWith('ERR_TLS_') || name.startsWith('ERR_OSSL_')) return true;
  // OpenSSL's verification names (`CRL_HAS_EXPIRED`…) are upper-case words without an errno meaning.
  return /^[A-Z][A-Z0-9_]+$/.test(name) && !Object.hasOwn(osConstants.errno, name) && !name.startsWith('ERR_') &&
    !name.startsWith('EAI_') && name !== 'ABORT_ERR';
}

/**
 * The `ErrorCode` for an error Node's TLS layer raised: a named `ssl.error` value when the name is
 * known, an interned `asio.ssl` code of its own for other TLS names (OpenSSL alerts such as
 * `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA` are many), and `fromNodeError`'s code for transport errors
 * (`ECONNRESET`…).
 */
export function fromTlsError(err: unknown): ErrorCode {
  const name = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof name !== 'string') return fromNodeError(err);
  // Own properties only: a name such as 'constructor' must not find Object.prototype's members.
  if (Object.hasOwn(verifyNames, name)) return verifyNames[name]!;
  if (Object.hasOwn(protocolNames, name)) return protocolNames[name]!;
  if (!isTlsName(name)) return fromNodeError(err);
  let index = extraNames.indexOf(name);
  if (index < 0) index = extraNames.push(name) - 1;
  return sslCategory.code(1000 + index);
}
