/**
 * Handler tracking (lib/net/handler-tracking.ts): off by default with nothing wrapped; when on,
 * Asio's log lines for creation, invocation, exceptions, drops and cancel calls, with operation
 * names and the ancestry of each operation. The log is collected by a function output; the
 * pictures spec (spec/docs/pictures.spec.ts) covers the environment variable and a file.
 */

import { expect } from 'chai';
import { HandlerWork } from '../../lib/net/handler-work.js';
import {
  asyncCompose,
  deferred,
  disableHandlerTracking,
  enableHandlerTracking,
  handlerTrackingEnabled,
  IoContext,
  post,
  SteadyTimer,
  TcpSocket,
} from '../../lib/net/index.js';

/** The log's lines without the `@asio|<time>|` prefix. */
function collect(): { lines: string[]; output: (line: string) => void } {
  const lines: string[] = [];
  return {
    lines,
    output: (line) => {
      const m = /^@asio\|\d+\.\d{6}\|(.*)$/.exec(line);
      expect(m, `not Asio's format: ${line}`).to.not.equal(null);
      lines.push(m![1]!);
    },
  };
}

describe('net/handler-tracking', () => {
  afterEach(() => disableHandlerTracking());

  it('is off by default, and the I/O objects\' methods are not wrapped then', () => {
    expect(handlerTrackingEnabled()).to.equal(false);
    const original = TcpSocket.prototype.asyncReadSome;
    enableHandlerTracking(() => {});
    expect(TcpSocket.prototype.asyncReadSome).to.not.equal(original);
    disableHandlerTracking();
    expect(TcpSocket.prototype.asyncReadSome).to.equal(original);
    expect(SteadyTimer.prototype.cancel.name).to.equal('cancel');
  });

  it('logs an operation\'s creation with its name, its handler\'s invocation and return', async () => {
    const { lines, output } = collect();
    enableHandlerTracking(output);
    const ioc = new IoContext();
    const timer = new SteadyTimer(ioc, 1);
    timer.asyncWait(() => {});
    await ioc.run();
    expect(lines).to.deep.equal(['0*1|timer@1.asyncWait', '>1|ec=system:0', '<1|']);
  });

  it('the ancestry: an operation started from a handler is that handler\'s child', async () => {
    const { lines, output } = collect();
    enableHandlerTracking(output);
    const ioc = new IoContext();
    const timer = new SteadyTimer(ioc, 1);
    timer.asyncWait(() => post(ioc, () => {}));
    await ioc.run();
    expect(lines).to.deep.equal([
      '0*1|timer@1.asyncWait',
      '>1|ec=system:0',
      '1*2|io_context@2.post',
      '<1|',
      '>2|',
      '<2|',
    ]);
  });

  it('logs cancel calls and the aborted completion they cause', async () => {
    const { lines, output } = collect();
    const ioc = new IoContext({ handlerTracking: output });
    expect(handlerTrackingEnabled()).to.equal(true);
    const timer = new SteadyTimer(ioc, 60_000);
    timer.asyncWait(() => {});
    timer.cancel();
    await ioc.run();
    expect(lines).to.deep.equal(['0*1|timer@1.asyncWait', '0|timer@1.cancel', '>1|ec=system:125', '<1|']);
  });

  it('a composed operation\'s first step starts its children; later steps are the children\'s handlers\'', async () => {
    const { lines, output } = collect();
    enableHandlerTracking(output);
    const ioc = new IoContext();
    asyncCompose<[], () => void>(function* (self) {
      yield* self.call(new SteadyTimer(ioc, 1).asyncWait(deferred));
      yield* self.call(new SteadyTimer(ioc, 1).asyncWait(deferred));
      self.complete();
    }, () => {}, ioc);
    await ioc.run();
    expect(lines).to.deep.equal([
      '0*1|operation@0.async',
      '1*2|timer@1.asyncWait',
      '>2|ec=system:0',
      '2*3|timer@2.asyncWait',
      '<2|',
      '>3|ec=system:0',
      '>1|',
      '<1|',
      '<3|',
    ]);
  });

  it('a deferred operation keeps its name until it is launched', async () => {
    const { lines, output } = collect();
    enableHandlerTracking(output);
    const ioc = new IoContext();
    const op = new SteadyTimer(ioc, 1).asyncWait(deferred);
    expect(lines).to.deep.equal([]);
    op(() => {});
    await ioc.run();
    expect(lines[0]).to.equal('0*1|timer@1.asyncWait');
  });

  it('logs a handler that throws (!n) and one dropped without being invoked (~n)', () => {
    const { lines, output } = collect();
    enableHandlerTracking(output);
    const ioc = new IoContext();
    post(ioc, () => {
      throw new Error('boom');
    });
    expect(() => ioc.poll()).to.throw('boom');
    new HandlerWork(() => {}, ioc.getExecutor()).abandon();
    expect(lines).to.deep.equal(['0*1|io_context@1.post', '>1|', '!1|', '0*2|operation@0.async', '~2|']);
  });

  it('a new output replaces the old; disabling stops the log', async () => {
    const first = collect();
    const second = collect();
    enableHandlerTracking(first.output);
    enableHandlerTracking(second.output);
    const ioc = new IoContext();
    post(ioc, () => {});
    await ioc.run();
    disableHandlerTracking();
    ioc.restart();
    post(ioc, () => {});
    await ioc.run();
    expect(first.lines).to.deep.equal([]);
    expect(second.lines).to.deep.equal(['0*1|io_context@1.post', '>1|', '<1|']);
  });
});
