/**
 * No silent hang: the system executor runs handlers on Node's loop with no run(); with an
 * explicit IoContext, a server keeps the context's run() going while attached, an upgrade on a
 * stopped context is refused with 503 and a warning, and an operation on a context nobody runs
 * is reported by a warning that names it.
 */

import { expect } from 'chai';
import { acceptWebSockets, connect, contextNotRunningCode, messages, send } from '../../lib/front/index.js';
import { IoContext, post, systemExecutor, dispatch } from '../../lib/net/index.js';
import { nextMessage, startHttp, wsClient } from './support.js';

function nextWarning(): Promise<Error & { code?: string }> {
  return new Promise((resolve) => process.once('warning', resolve));
}

describe('front: no silent hang', () => {
  it('systemExecutor: post never runs inside the call, keeps FIFO order, dispatch runs at once', async () => {
    const order: string[] = [];
    post(systemExecutor, () => order.push('a'));
    post(systemExecutor, () => order.push('b'));
    dispatch(systemExecutor, () => order.push('c'));
    order.push('sync');
    // Every caller runs on Node's loop, so it is always "inside" this executor: dispatch is inline.
    expect(order).to.deep.equal(['c', 'sync']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).to.deep.equal(['c', 'sync', 'a', 'b']);
    let inline = false;
    systemExecutor.dispatch(() => (inline = true));
    expect(inline).to.equal(true);
  });

  it('systemExecutor: a long chain of posts lets I/O run between batches', async () => {
    let immediates = 0;
    const tick = (): void => {
      immediates++;
      if (immediates < 3) setImmediate(tick);
    };
    setImmediate(tick);
    await new Promise<void>((resolve) => {
      let n = 0;
      const step = (): void => (++n < 5000 ? systemExecutor.post(step) : resolve());
      systemExecutor.post(step);
    });
    expect(immediates).to.be.greaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
  });

  it('with an IoContext, an attached server keeps run() going between connections', async () => {
    const http = await startHttp();
    const ioc = new IoContext();
    const wss = acceptWebSockets(http.server, { executor: ioc }, async (ws) => {
      for await (const m of messages(ws)) await send(ws, m.data);
    });
    const running = ioc.run();
    await new Promise((resolve) => setTimeout(resolve, 30)); // nothing in flight: Asio's run() would return
    expect(ioc.stopped()).to.equal(false);
    const c = await wsClient(`ws://127.0.0.1:${http.port}/`);
    c.send('still served');
    expect(await nextMessage(c)).to.equal('still served');
    c.terminate();
    await wss.close();
    await running; // released: run() ends by itself
    await http.stop();
  });

  it('an upgrade on a stopped context is refused with 503 and a warning, not a silent hang', async () => {
    const http = await startHttp();
    const ioc = new IoContext();
    const wss = acceptWebSockets(http.server, { executor: ioc }, () => {});
    const running = ioc.run();
    ioc.stop();
    await running;
    const warned = nextWarning();
    let err: unknown;
    try {
      await wsClient(`ws://127.0.0.1:${http.port}/`);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain('503');
    const w = await warned;
    expect(w.code).to.equal(contextNotRunningCode);
    expect(w.message).to.contain('run() has ended');
    ioc.restart();
    const closing = wss.close();
    await ioc.run();
    await closing;
    await http.stop();
  });

  it('an operation on a context nobody runs is reported by a warning naming it', async () => {
    const http = await startHttp();
    const wss = acceptWebSockets(http.server, async (ws) => {
      for await (const m of messages(ws)) await send(ws, m.data);
    }); // on Node's loop
    const ioc = new IoContext();
    const warned = nextWarning();
    const url = `ws://127.0.0.1:${http.port}/never-run`;
    const p = connect(url, { executor: ioc });
    const w = await warned;
    expect(w.code).to.equal(contextNotRunningCode);
    expect(w.message).to.contain(`connect ${url}`).and.contain('nobody runs it');
    // Running it now lets the connect finish.
    const running = ioc.run();
    const ws = await p;
    await ws.asyncClose(1000);
    await running;
    await wss.close();
    await http.stop();
  });
});
