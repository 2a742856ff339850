/**
 * `ip/tcp`: Asio's `ip::tcp` family over `node:net`: endpoints, the resolver, sockets, the
 * acceptor and the range connect. Re-exports only; each concept lives in its own module.
 */

export { Endpoint, type AddressFamily } from './endpoint.js';
export { Resolver, type ResolveSignature } from './resolver.js';
export { TcpSocket, ShutdownType, type SocketOption, type ConnectSignature } from './tcp-socket.js';
export { TcpAcceptor, type AcceptSignature, type ListenSignature } from './tcp-acceptor.js';
export { asyncConnect, type ConnectableSocket, type RangeConnectSignature } from './connect.js';
