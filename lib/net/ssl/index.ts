/**
 * `ssl`: Asio's TLS layer over `node:tls`: the context, the stream, its errors, and the Duplex
 * adapter that lets TLS run over any AsyncStream. Re-exports only; each concept has its module.
 */

export {
  SslContext,
  verifyNone,
  verifyPeer,
  verifyFailIfNoPeerCert,
  verifyClientOnce,
  type SslMethod,
  type VerifyMode,
  type HandshakeType,
} from './context.js';
export { SslStream, defaultSslHandshakeTimeout, type SslSignature, type TeardownRole } from './stream.js';
export { error, condition, sslCategory, fromTlsError } from './error.js';
export { NextLayerDuplex, type AdaptedLayer } from './next-layer-duplex.js';
export {
  isNativeSocketLayer,
  untimedScope,
  type NativeSocketLayer,
  type OperationKind,
  type OperationScope,
} from './next-layer.js';
