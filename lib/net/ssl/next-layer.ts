/**
 * The contract between the TLS stream and the layer under it, when that layer owns a Node socket
 * (a `TcpSocket`, Beast's `TcpStream`): how TLS reaches the socket, and how the layer's deadlines
 * still apply to the operations TLS performs on it. Types and one probe only; no I/O here, and
 * nothing here may import a layer above `lib/net`.
 */

import type { Socket } from 'node:net';
import type { ErrorCode } from '../error.js';

/** Which of a layer's deadlines an operation runs under (a handshake waits on both directions). */
export type OperationKind = 'read' | 'write' | 'both';

/**
 * One operation of a layer above, run under the deadline of a layer below (see
 * {@link NativeSocketLayer.beginOperation}).
 */
export interface OperationScope {
  /** Set when the operation must not start: it completes at once with this error. */
  readonly refused: ErrorCode | null;
  /**
   * Call exactly once, when the operation completes (before its handler runs). Returns the error
   * that replaces the operation's own (the layer's timeout error when its deadline closed the
   * socket meanwhile), or `null` to keep the operation's result.
   */
  end(): ErrorCode | null;
}

/** A next layer that can hand its Node socket to TLS (a `TcpSocket`, a `TcpStream`). */
export interface NativeSocketLayer {
  /** The Node socket underneath, or `null` when closed. */
  nativeHandle(): Socket | null;
  /**
   * Optional: starts an operation that a layer above performs directly on the native socket, so
   * that this layer's deadline applies to it as it would to this layer's own operations (Beast's
   * `ssl_stream<tcp_stream>`: each TLS read or write is a timed read or write of the TCP stream).
   */
  beginOperation?(kind: OperationKind): OperationScope;
  /** Closes the layer (and the socket). */
  close(): void;
}

/** Whether `layer` offers its Node socket to TLS. */
export function isNativeSocketLayer(layer: unknown): layer is NativeSocketLayer {
  return (
    typeof layer === 'object' &&
    layer !== null &&
    typeof (layer as Partial<NativeSocketLayer>).nativeHandle === 'function' &&
    typeof (layer as Partial<NativeSocketLayer>).close === 'function'
  );
}

/** The scope of a layer without deadlines: never refuses, never replaces a result. */
export const untimedScope: OperationScope = Object.freeze({
  refused: null,
  end: (): ErrorCode | null => null,
});
