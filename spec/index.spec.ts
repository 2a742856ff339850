// The root entry `tsbeast` gives the common case (issue 17.8): imported by the package's own name,
// as a user imports it, so the `exports` map of package.json is exercised too.

import { expect } from 'chai';

import { CloseCode, net, Stream, TcpStream, Timeout, websocket } from 'tsbeast';

describe('tsbeast (the root entry)', () => {
  it('exports the WebSocket stream and its friends beside net', () => {
    const ioc = new net.IoContext();
    const ws = new Stream(new TcpStream(ioc));
    ws.setOption(Timeout.suggested('client'));
    expect(ws.isOpen()).to.equal(false);
    expect(Stream).to.equal(websocket.Stream);
    expect(CloseCode.normal).to.equal(1000);
    ws.nextLayer().close();
    expect(ioc.outstandingWork()).to.equal(0);
  });
});
