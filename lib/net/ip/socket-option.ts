/**
 * The settings of a {@link TcpSocket} that are values rather than operations: which direction a
 * shutdown closes, and the socket options. No I/O here.
 */

import type { TcpSocket } from './tcp-socket.js';

/** Which direction {@link TcpSocket.shutdown} closes (Asio's `shutdown_type`). */
export const ShutdownType = Object.freeze({ receive: 0, send: 1, both: 2 } as const);
/** One of {@link ShutdownType}'s values. */
export type ShutdownType = (typeof ShutdownType)[keyof typeof ShutdownType];

/** A socket option for {@link TcpSocket.setOption}: `TcpSocket.noDelay(true)`, `TcpSocket.keepAlive(true)`. */
export interface SocketOption {
  readonly name: 'noDelay' | 'keepAlive';
  readonly value: boolean;
}

// The four option values, made once: servers set one on every connection they accept.
const options: Readonly<Record<SocketOption['name'], readonly [off: SocketOption, on: SocketOption]>> = {
  noDelay: [Object.freeze({ name: 'noDelay', value: false }), Object.freeze({ name: 'noDelay', value: true })],
  keepAlive: [Object.freeze({ name: 'keepAlive', value: false }), Object.freeze({ name: 'keepAlive', value: true })],
};

/** The option `name` set to `value`, one shared frozen object for each pair. */
export function socketOption(name: SocketOption['name'], value: boolean): SocketOption {
  return options[name][value ? 1 : 0];
}
