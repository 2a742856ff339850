/**
 * `ssl`: TLS streams (Asio's `asio::ssl`), `SslContext` and `SslStream` over `node:tls`. The
 * implementation lives in `ssl/`; this module only re-exports it, so `import { ssl }`-style users
 * and `lib/net/ssl.js` imports see the same names.
 */

export * from './ssl/index.js';
