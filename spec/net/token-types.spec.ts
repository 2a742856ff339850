/**
 * Type-level specs: what an initiating function returns follows its token. These assertions are
 * checked by `tsc` when the specs are built (a wrong type fails the build, and each
 * `@ts-expect-error` fails it if the misuse stops being an error); the runtime part only shows
 * that the values behave as typed.
 */

import { expect } from 'chai';
import {
  asTuple,
  bindAbortSignal,
  bindExecutor,
  append,
  bindImmediateExecutor,
  cancelAfter,
  coSpawn,
  consign,
  deferred,
  detached,
  FlatBuffer,
  IoContext,
  makeParallelGroup,
  makeStrand,
  post,
  redirectError,
  SteadyTimer,
  TcpSocket,
  usePromise,
  waitForAll,
  type DeferredOp,
  type ErrorCode,
} from '../../lib/net/index.js';
import { Stream } from '../../lib/beast/websocket/index.js';
import { asyncStubLater, asyncStubNow, type StubSignature } from '../support/stub-ops.js';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

describe('net/token types', () => {

  it('asTuple(callback) and redirectError(callback, out): the parameters are typed, never `never` (issue 17.6)', () => {
    const ioc = new IoContext();
    const ex = ioc.getExecutor();
    const seen: unknown[] = [];
    // Unannotated: the tuple is `readonly unknown[]` and the values `unknown`, to be narrowed.
    asyncStubNow(ex, 1, asTuple((result) => {
      assertType<Equal<typeof result, readonly unknown[]>>();
      seen.push(result);
    }));
    const out: { ec: ErrorCode | null } = { ec: null };
    asyncStubNow(ex, 2, redirectError((...values) => {
      assertType<Equal<typeof values, readonly unknown[]>>();
      seen.push(values);
    }, out));
    // Annotated: the declared types.
    asyncStubNow(ex, 3, asTuple((result: StubSignature) => {
      assertType<Equal<typeof result[1], number>>();
    }));
    asyncStubNow(ex, 4, redirectError((n: number) => {
      assertType<Equal<typeof n, number>>();
    }, out));
    // @ts-expect-error a callback that does not take a tuple
    asTuple((n: number) => seen.push(n));
    // @ts-expect-error a string is neither a token nor a callback
    asTuple('nope');
    // @ts-expect-error the error slot goes to `out`, not to the callback; the callback needs out
    redirectError((ec: ErrorCode | null) => seen.push(ec));
    ioc.poll();
    expect(seen).to.have.length(2);
  });

  it('a callback given to asTuple or redirectError must accept the operation\'s signature: a wrong one does not compile (issue 17.6)', () => {
    const out: { ec: ErrorCode | null } = { ec: null };
    // Type-checked, never run: the operations need no connection for tsc.
    const typeOnly = (socket: TcpSocket, ws: Stream<TcpSocket>, timer: SteadyTimer, buf: Uint8Array): void => {
      // The right callbacks, directly and through binders, compile.
      socket.asyncReadSome(buf, asTuple((r: [ErrorCode | null, number]) => void r));
      socket.asyncReadSome(buf, redirectError((n: number) => void n, out));
      socket.asyncReadSome(buf, bindImmediateExecutor(timer.getExecutor(), asTuple((r: readonly unknown[]) => void r)));
      ws.asyncWrite(buf, cancelAfter(10, redirectError((n: number) => void n, out)));
      timer.asyncWait(asTuple(([ec]: [ErrorCode | null]) => void ec));
      timer.asyncWait(consign((ec) => void ec, buf));
      // @ts-expect-error TcpSocket.asyncReadSome completes with (ec, number), not (ec, string)
      socket.asyncReadSome(buf, asTuple((r: [ErrorCode | null, string]) => void r));
      // @ts-expect-error after redirectError the callback gets the byte count, a number
      socket.asyncReadSome(buf, redirectError((s: string) => void s, out));
      // @ts-expect-error checked through a binder too
      socket.asyncReadSome(buf, bindExecutor(makeStrand(timer.getExecutor()), asTuple((r: [ErrorCode | null, string]) => void r)));
      // @ts-expect-error websocket Stream.asyncRead completes with (ec, bytesAppended)
      ws.asyncRead(new FlatBuffer(), asTuple((r: [ErrorCode | null, boolean]) => void r));
      // @ts-expect-error websocket Stream.asyncPing completes with (ec) alone: nothing is left for a value
      ws.asyncPing('', redirectError((n: number) => void n, out));
      // @ts-expect-error checked through cancelAfter and append
      ws.asyncWrite(buf, cancelAfter(10, append(redirectError((n: number, s: number) => void [n, s], out), 'x')));
      // @ts-expect-error SteadyTimer.asyncWait completes with (ec): a one-element tuple
      timer.asyncWait(asTuple((r: [ErrorCode | null, number]) => void r));
      // @ts-expect-error after redirectError nothing is left for a required value
      timer.asyncWait(redirectError((n: number) => void n, out));
      // @ts-expect-error a deferred operation checks the token it is launched with
      timer.asyncWait(deferred)(asTuple((r: [string]) => void r));
    };
    void typeOnly;
  });
  it('await of a deferred operation: not a type error (TypeScript accepts await of any value); the lint rule await-thenable refuses it', async () => {
    const ioc = new IoContext();
    const op = asyncStubNow(ioc.getExecutor(), 5, deferred);
    // What a mistaken `await op` gives: the operation itself, launched never. The lint rule refuses
    // this line everywhere else (npm run lint); here it is the misuse under test.
    // eslint-disable-next-line @typescript-eslint/await-thenable
    const awaited = await op;
    assertType<Equal<typeof awaited, DeferredOp<StubSignature>>>();
    expect(awaited).to.equal(op);
    expect(ioc.poll()).to.equal(0);
  });
  it('each token gives the result type Asio would', async () => {
    const ioc = new IoContext();
    const ex = ioc.getExecutor();

    const viaCallback = asyncStubNow(ex, 1, (ec, v) => {
      assertType<Equal<typeof ec, ErrorCode | null>>();
      assertType<Equal<typeof v, number>>();
    });
    assertType<Equal<typeof viaCallback, void>>();

    const viaDefault = asyncStubNow(ex, 2);
    assertType<Equal<typeof viaDefault, Promise<number>>>();
    const viaPromise = asyncStubNow(ex, 3, usePromise);
    assertType<Equal<typeof viaPromise, Promise<number>>>();

    const viaTuple = asyncStubNow(ex, 4, asTuple());
    assertType<Equal<typeof viaTuple, Promise<[ec: ErrorCode | null, value: number]>>>();

    const viaDeferred = asyncStubNow(ex, 5, deferred);
    assertType<Equal<typeof viaDeferred, DeferredOp<StubSignature>>>();
    const launched = viaDeferred(asTuple(usePromise));
    assertType<Equal<typeof launched, Promise<[ec: ErrorCode | null, value: number]>>>();
    const launchedDefault = viaDeferred();
    assertType<Equal<typeof launchedDefault, Promise<number>>>();

    const viaDetached = asyncStubNow(ex, 6, detached);
    assertType<Equal<typeof viaDetached, void>>();

    const out = { ec: null as ErrorCode | null };
    const viaRedirect = asyncStubNow(ex, 7, redirectError(out));
    assertType<Equal<typeof viaRedirect, Promise<number>>>();

    const viaBound = asyncStubNow(ex, 8, bindExecutor(makeStrand(ioc)));
    assertType<Equal<typeof viaBound, Promise<number>>>();
    const viaAbort = asyncStubNow(ex, 9, bindAbortSignal(new AbortController().signal, asTuple()));
    assertType<Equal<typeof viaAbort, Promise<[ec: ErrorCode | null, value: number]>>>();
    const viaCancelAfter = asyncStubNow(ex, 10, cancelAfter(1000, (ec: ErrorCode | null) => void ec));
    assertType<Equal<typeof viaCancelAfter, void>>();

    const waited = new SteadyTimer(ioc).asyncWait();
    assertType<Equal<typeof waited, Promise<void>>>();
    const posted = post(ex);
    assertType<Equal<typeof posted, Promise<void>>>();

    const group = makeParallelGroup(asyncStubLater(ex, 1, 1, deferred), new SteadyTimer(ioc).asyncWait(deferred)).asyncWait(waitForAll());
    assertType<Equal<typeof group, Promise<[order: number[], ErrorCode | null, number, ErrorCode | null]>>>();

    const spawned = coSpawn(ex, async () => 'text');
    assertType<Equal<typeof spawned, Promise<string>>>();

    // @ts-expect-error a deferred operation is not a promise: awaiting it must be spelled out
    void viaDeferred.then;
    // @ts-expect-error the callback's parameters follow the signature
    asyncStubNow(ex, 1, (ec: ErrorCode | null, v: string) => void [ec, v]);
    // @ts-expect-error a plain object is not a completion token (and is refused at run time)
    expect(() => asyncStubNow(ex, 1, { kind: 'promise' })).to.throw(TypeError, 'not a completion token');

    void ioc.run();
    expect(await viaDefault).to.equal(2);
    expect(await viaPromise).to.equal(3);
    expect(await viaTuple).to.deep.equal([null, 4]);
    expect(await launched).to.deep.equal([null, 5]);
    expect(await launchedDefault).to.equal(5);
    expect(await viaRedirect).to.equal(7);
    expect(await viaBound).to.equal(8);
    expect(await viaAbort).to.deep.equal([null, 9]);
    ioc.restart();
    const run = ioc.run();
    await waited;
    await posted;
    const [order] = await group;
    expect(order).to.have.length(2);
    expect(await spawned).to.equal('text');
    await run;
  });
});
