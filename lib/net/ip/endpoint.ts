/**
 * Endpoint: an IP address and a port (Asio's `ip::tcp::endpoint`). A plain value: it never
 * resolves names and never touches a socket; `Resolver` turns names into endpoints.
 */

import { isIP } from 'node:net';
import { error, SystemError } from '../error.js';

/** The IP protocol version of an address: 4 or 6. */
export type AddressFamily = 4 | 6;

/**
 * An IP address (a literal: `'127.0.0.1'`, `'::1'`) and a port. Immutable; compare with
 * {@link Endpoint.equals}. The default endpoint is `0.0.0.0:0` (the unspecified IPv4 address),
 * as Asio's default-constructed endpoint is.
 */
export class Endpoint {
  /** The address, as Node writes it (`'127.0.0.1'`, `'::1'`). */
  readonly address: string;
  /** The port, 0 to 65535 (0 asks the system for any free port when binding). */
  readonly port: number;
  /** 4 or 6, from the address. */
  readonly family: AddressFamily;

  /**
   * @param address - an IPv4 or IPv6 literal; names are rejected (resolve them first).
   * @param port - an integer from 0 to 65535.
   * @throws {@link SystemError} with `net.error.invalidArgument` when either is invalid.
   */
  constructor(address = '0.0.0.0', port = 0) {
    const family = isIP(address);
    if (family === 0) throw new SystemError(error.invalidArgument, `Endpoint: not an IP address: ${address}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new SystemError(error.invalidArgument, `Endpoint: invalid port ${port}`);
    }
    this.address = address;
    this.port = port;
    this.family = family as AddressFamily;
    Object.freeze(this);
  }

  /**
   * The unspecified address of a family with `port` (Asio's `endpoint(tcp::v4(), port)`): what
   * an acceptor binds to in order to listen on every interface.
   */
  static any(port: number, family: AddressFamily = 4): Endpoint {
    return new Endpoint(family === 4 ? '0.0.0.0' : '::', port);
  }

  /** The loopback address of a family with `port`: `127.0.0.1` or `::1`. */
  static loopback(port: number, family: AddressFamily = 4): Endpoint {
    return new Endpoint(family === 4 ? '127.0.0.1' : '::1', port);
  }

  /** Whether both endpoints have the same address and port. */
  equals(other: Endpoint): boolean {
    return this.address === other.address && this.port === other.port;
  }

  /** `127.0.0.1:80`, or `[::1]:80` for IPv6. */
  toString(): string {
    return this.family === 6 ? `[${this.address}]:${this.port}` : `${this.address}:${this.port}`;
  }
}
