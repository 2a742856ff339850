/**
 * The settings of a {@link TcpSocket} that are values rather than operations: which direction a
 * shutdown closes, and the socket options and how a socket records them. No I/O here.
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

/**
 * Where a socket keeps the options set by its caller, in its field of state bits: each option
 * has a bit saying it was set (unset: the system default) and the bit above it holds its value.
 * The socket's own bits stay below 8.
 */
const optionSetBit: Readonly<Record<SocketOption['name'], number>> = { noDelay: 8, keepAlive: 32 };

/** `bits` with `option` recorded as set to its value. */
export function withOption(bits: number, option: SocketOption): number {
  const set = optionSetBit[option.name];
  return (bits & ~(set | (set << 1))) | set | (option.value ? set << 1 : 0);
}

/** The value recorded in `bits` for `name`, or `undefined` when it was never set. */
export function optionIn(bits: number, name: SocketOption['name']): boolean | undefined {
  const set = optionSetBit[name];
  return (bits & set) === 0 ? undefined : (bits & (set << 1)) !== 0;
}
