/**
 * Beast's core: the pieces shared by the HTTP and WebSocket layers: the core error and condition
 * (`error.timeout`, `condition.timeout`) and the adapter that makes any Node Duplex a next layer.
 */

export { beastCategory, error, condition } from './error.js';
export { DuplexStream } from './duplex-stream.js';
export { TcpStream } from './tcp-stream.js';
