/**
 * How an `SslStream` gets its Node `TLSSocket`: over the next layer's Node socket or an adapter,
 * the client side through `tls.connect({ socket })`,
 * the server side through `new tls.TLSSocket(socket, { isServer: true })`, with the verification
 * Asio's verify modes ask for. Internal: no handlers, executors or completion rules here, and it
 * must never accept a peer that the verify mode says to refuse.
 */

import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { error as netError, type ErrorCode } from '../error.js';
import type { AsyncStream } from '../stream.js';
import { verifyFailIfNoPeerCert, verifyPeer, type HandshakeType, type SslContext, type VerifyMode } from './context.js';
import { error, fromTlsError } from './error.js';
import { isNativeSocketLayer } from './next-layer.js';
import { NextLayerDuplex } from './next-layer-duplex.js';

/** A TLS socket being set up, with the name of the event that says its handshake succeeded. */
export interface StartedTls {
  readonly socket: tls.TLSSocket;
  /** `'secureConnect'` for clients (after Node's verification); `'secure'` for servers. */
  readonly secureEvent: 'secureConnect' | 'secure';
  /** The adapter TLS runs over when the next layer has no Node socket to hand over. */
  readonly duplex: NextLayerDuplex | null;
}

/**
 * Starts TLS as `role` over `next`: on its Node socket when it has one (a TcpSocket, a
 * TcpStream), else over a {@link NextLayerDuplex}. Returns the error to complete with instead
 * when that is not possible (`badDescriptor` for a closed socket, a bad context's error).
 */
export function openTls(next: AsyncStream, role: HandshakeType, settings: ClientSettings): StartedTls | ErrorCode {
  const native = isNativeSocketLayer(next) ? next.nativeHandle() : undefined;
  if (native === null) return netError.badDescriptor;
  try {
    // Built first: a bad certificate or key must fail before anything touches the next layer.
    settings.context.nativeHandle();
  } catch (err) {
    return fromTlsError(err);
  }
  const duplex = native === undefined ? new NextLayerDuplex(next) : null;
  const transport = native ?? duplex!;
  try {
    const started = role === 'client' ? startClient(transport, settings) : startServer(transport, settings.context, settings.verifyMode);
    return { ...started, duplex };
  } catch (err) {
    duplex?.destroy();
    return fromTlsError(err);
  }
}

/** What starting TLS needs to know of the stream (the host name matters to clients only). */
export interface ClientSettings {
  readonly context: SslContext;
  readonly verifyMode: VerifyMode;
  /** The name to send as SNI and to check the certificate against (`null`: not set). */
  readonly hostname: string | null;
}

/**
 * Starts the client side of a handshake over `transport` (a connected `net.Socket`, whose handle
 * TLS then takes over, or any Duplex). With `verifyPeer`, the chain is checked against the
 * context's authorities and the certificate against the host name; with no host name set, against
 * the peer's IP address when the transport knows it. Throws what Node throws for a bad context.
 */
export function startClient(transport: Duplex, settings: ClientSettings): Omit<StartedTls, 'duplex'> {
  const name = settings.hostname;
  const peerAddress = transport instanceof net.Socket ? transport.remoteAddress : undefined;
  const options: tls.ConnectionOptions = {
    socket: transport,
    secureContext: settings.context.nativeHandle(),
    rejectUnauthorized: (settings.verifyMode & verifyPeer) !== 0,
    // Node would check against 'localhost' when no name is given; we check what the caller named.
    checkServerIdentity: (_host, cert) => {
      const expected = name ?? peerAddress;
      if (expected === undefined) return missingHostname();
      return tls.checkServerIdentity(expected, cert);
    },
  };
  // SNI carries names only (RFC 6066 section 3); Node warns when given an address.
  if (name !== null && net.isIP(name) === 0) options.servername = name;
  return { socket: tls.connect(options), secureEvent: 'secureConnect' };
}

/**
 * Starts the server side of a handshake over `transport`. With `verifyPeer` a client certificate
 * is requested (and required with `verifyFailIfNoPeerCert`); one that is presented is checked by
 * {@link verifyClient} once the handshake is done.
 */
export function startServer(transport: Duplex, context: SslContext, verifyMode: VerifyMode): Omit<StartedTls, 'duplex'> {
  const request = (verifyMode & verifyPeer) !== 0;
  const socket = new tls.TLSSocket(transport, {
    isServer: true,
    secureContext: context.nativeHandle(),
    requestCert: request,
    rejectUnauthorized: request && (verifyMode & verifyFailIfNoPeerCert) !== 0,
  });
  return { socket, secureEvent: 'secure' };
}

/** The member of Node's TLS handle that reports the chain verification of the peer. */
interface VerifyingHandle {
  verifyError?: () => Error | null;
}

/**
 * After a server handshake: the error that refuses the client's certificate, or `null`. Node
 * checks client certificates only inside `tls.Server`, so a server socket of our own asks the
 * handle's `verifyError()` (what `tls.Server` asks), reached through the socket's `ssl` member.
 * Where that is missing, a presented certificate is refused rather than trusted unchecked.
 */
export function verifyClient(socket: tls.TLSSocket, verifyMode: VerifyMode): ErrorCode | null {
  if ((verifyMode & verifyPeer) === 0) return null;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (!presented) return (verifyMode & verifyFailIfNoPeerCert) !== 0 ? error.noPeerCertificate : null;
  const handle = (socket as unknown as { ssl?: VerifyingHandle | null }).ssl;
  if (handle === undefined || handle === null || typeof handle.verifyError !== 'function') {
    return error.certificateVerifyFailed;
  }
  const failure = handle.verifyError();
  return failure === null || failure === undefined ? null : fromTlsError(failure);
}

function missingHostname(): Error {
  const err = new Error('no host name to verify the certificate against: call SslStream.setHostname()');
  return Object.assign(err, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}
