/**
 * SslContext: Asio's `ssl::context`, the settings TLS streams share (protocol versions, our
 * certificate and key, the certificate authorities we trust, how peers are verified), turned into
 * one Node `SecureContext` built on first use and rebuilt only after a change. No I/O here, and
 * it must never trust anything it was not told to trust: with no authority added and no
 * `setDefaultVerifyPaths()`, no peer certificate verifies.
 */

import { Buffer } from 'node:buffer';
import * as tls from 'node:tls';

/**
 * The protocol versions a context allows (Asio's `ssl::context::method`, modern values only):
 * `tls` (and its client / server forms) allows TLS 1.2 and 1.3; the others pin one version.
 */
export type SslMethod =
  | 'tls' | 'tlsClient' | 'tlsServer'
  | 'tlsv12' | 'tlsv12Client' | 'tlsv12Server'
  | 'tlsv13' | 'tlsv13Client' | 'tlsv13Server';

/** How peers are verified: a combination of {@link verifyNone}, {@link verifyPeer}… (Asio's `ssl::verify_mode`). */
export type VerifyMode = number;

/** Do not verify the peer (a server does not ask for a client certificate). */
export const verifyNone: VerifyMode = 0;
/**
 * Verify the peer: a client checks the server's certificate chain and host name; a server asks
 * for a client certificate and refuses one that does not verify.
 */
export const verifyPeer: VerifyMode = 1;
/** With {@link verifyPeer}, a server also refuses a client that sends no certificate. */
export const verifyFailIfNoPeerCert: VerifyMode = 2;
/** Accepted for Asio compatibility: a client certificate is only ever requested once here. */
export const verifyClientOnce: VerifyMode = 4;

/** Which end of the handshake a stream plays. */
export type HandshakeType = 'client' | 'server';

type Pem = string | Uint8Array;

/**
 * The TLS settings of a set of streams.
 *
 * Verification is on by default for clients: unless {@link SslContext.setVerifyMode} says
 * otherwise, a client stream verifies the server's chain against the authorities added here and
 * the host name given to `SslStream.setHostname` (Asio's context starts with `verify_none`; we
 * start safe). Servers do not ask for client certificates unless `verifyPeer` is set.
 *
 * ```ts
 * const ctx = new SslContext('tlsClient');
 * ctx.setDefaultVerifyPaths();           // trust Node's bundled root certificates
 * const stream = new SslStream(new TcpStream(ioc), ctx);
 * ```
 */
export class SslContext {
  readonly #method: SslMethod;
  #certificate: Pem | null = null;
  #key: Pem | null = null;
  #passphrase: string | undefined;
  readonly #authorities: Pem[] = [];
  #defaultPaths = false;
  #verifyMode: VerifyMode | null = null;
  #native: tls.SecureContext | null = null;

  /** @param method - the protocol versions allowed (default `'tls'`: TLS 1.2 and 1.3). */
  constructor(method: SslMethod = 'tls') {
    this.#method = method;
  }

  /** The method the context was made with. */
  method(): SslMethod {
    return this.#method;
  }

  /** Uses `pem` (a PEM certificate, optionally followed by its intermediates) as our certificate. */
  useCertificate(pem: Pem): void {
    this.#certificate = pem;
    this.#native = null;
  }

  /** Uses `pem` (our certificate followed by its intermediate certificates) as our chain. */
  useCertificateChain(pem: Pem): void {
    this.useCertificate(pem);
  }

  /** Uses `pem` (a PEM private key, decrypted with `passphrase` when given) as our key. */
  usePrivateKey(pem: Pem, passphrase?: string): void {
    this.#key = pem;
    this.#passphrase = passphrase;
    this.#native = null;
  }

  /** Trusts the certificate authorities in `pem` (one or more PEM certificates) for verifying peers. */
  addCertificateAuthority(pem: Pem): void {
    this.#authorities.push(pem);
    this.#native = null;
  }

  /** Trusts the root certificates bundled with Node (`tls.rootCertificates`) as well. */
  setDefaultVerifyPaths(): void {
    this.#defaultPaths = true;
    this.#native = null;
  }

  /** Sets how peers are verified, for streams of both roles (see {@link verifyPeer}). */
  setVerifyMode(mode: VerifyMode): void {
    this.#verifyMode = mode;
  }

  /** The verify mode a stream of `role` uses unless the stream sets its own. */
  verifyMode(role: HandshakeType = 'client'): VerifyMode {
    return this.#verifyMode ?? (role === 'client' ? verifyPeer : verifyNone);
  }

  /**
   * The Node `SecureContext` holding these settings (Asio's `native_handle`), built now if a
   * setting changed since the last call. Throws what `tls.createSecureContext` throws (a key that
   * does not match the certificate, a bad PEM).
   */
  nativeHandle(): tls.SecureContext {
    if (this.#native !== null) return this.#native;
    const [minVersion, maxVersion] = versions(this.#method);
    const options: tls.SecureContextOptions = {
      minVersion,
      maxVersion,
      // An explicit list, even empty, so that Node never falls back to its own roots silently.
      ca: [...(this.#defaultPaths ? tls.rootCertificates : []), ...this.#authorities.map(pemText)],
    };
    if (this.#certificate !== null) options.cert = pemText(this.#certificate);
    if (this.#key !== null) options.key = pemText(this.#key);
    if (this.#passphrase !== undefined) options.passphrase = this.#passphrase;
    this.#native = tls.createSecureContext(options);
    return this.#native;
  }
}

function pemText(pem: Pem): string {
  return typeof pem === 'string' ? pem : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).toString('latin1');
}

function versions(method: SslMethod): [tls.SecureVersion, tls.SecureVersion] {
  if (method.startsWith('tlsv12')) return ['TLSv1.2', 'TLSv1.2'];
  if (method.startsWith('tlsv13')) return ['TLSv1.3', 'TLSv1.3'];
  return ['TLSv1.2', 'TLSv1.3'];
}
