/**
 * The handler tracking pictures in the docs come from real runs: this spec runs the tracking
 * snippets, draws their logs with the package's `tsbeast-handlerviz` (into dist/docs-pictures on
 * every run, so CI draws them), checks what they show, and checks that the copies committed under
 * docs/pictures/ show the same operations. UPDATE_DOC_PICTURES=1 refreshes those copies.
 */

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHandlerLog, type HandlerLog } from '../../lib/tools/handler-log.js';
import { makePictures, pictures } from './pictures.js';

const root = process.cwd();
const update = process.env['UPDATE_DOC_PICTURES'] === '1';
const outDir = update ? join(root, 'docs/pictures') : join(root, 'dist/docs-pictures');

// The operations a picture draws, as `kind.op` (object numbers and times vary between runs).
function drawnOps(svg: string): Set<string> {
  const ops = new Set<string>();
  for (const m of svg.matchAll(/<title>#\d+ ([a-z_]+)@\d+\.(\w+),/g)) ops.add(`${m[1]}.${m[2]}`);
  return ops;
}

function find(log: HandlerLog, object: string, op: string) {
  return log.ops.filter((o) => o.object.startsWith(object + '@') && o.op === op);
}

describe('docs: the handler tracking pictures', function () {
  this.timeout(60_000);
  let logs: Map<string, HandlerLog>;
  before(async () => {
    const texts = await makePictures(root, outDir);
    logs = new Map([...texts].map(([k, v]) => [k, parseHandlerLog(v)]));
  });

  it('the echo session: every operation completed, each started by the handler before it', () => {
    const log = logs.get('echo-session')!;
    expect(log.ops.filter((o) => o.outcome === 'pending' || o.outcome === 'dropped')).to.deep.equal([]);
    expect(find(log, 'websocket', 'asyncHandshake')).to.have.length(1);
    expect(find(log, 'websocket', 'asyncAccept')).to.have.length(1);
    expect(find(log, 'websocket', 'asyncClose')).to.have.length(1);
    // Each websocket write starts the tcp write that carries it.
    for (const w of find(log, 'websocket', 'asyncWrite')) {
      expect(log.ops.some((o) => o.parent === w.id && o.object.startsWith('tcp@') && o.op === 'asyncWriteSome')).to.equal(true);
    }
    // The server's last read ends with the peer's close: an error, marked.
    expect(find(log, 'websocket', 'asyncRead').filter((o) => o.outcome === 'error')).to.have.length(1);
  });

  it('the cancelled write: the deadline\'s timer fires, the write and its tcp write end aborted', () => {
    const log = logs.get('cancelled-write')!;
    const [write] = find(log, 'websocket', 'asyncWrite');
    expect(write?.outcome).to.equal('aborted');
    const tcpWrites = log.ops.filter((o) => o.object.startsWith('tcp@') && o.op === 'asyncWriteSome');
    expect(tcpWrites.at(-1)?.outcome).to.equal('aborted');
    expect(tcpWrites.slice(0, -1).every((o) => o.outcome === 'ok')).to.equal(true);
    expect(find(log, 'timer', 'asyncWait').map((o) => o.outcome)).to.deep.equal(['ok']);
    expect(log.calls.some((c) => c.object.startsWith('timer@') && c.op === 'cancel')).to.equal(true);
  });

  for (const p of pictures) {
    it(`docs/pictures/${p.name}.svg and .html show the operations of a fresh run`, () => {
      const fresh = readFileSync(join(outDir, `${p.name}.svg`), 'utf8');
      const committed = readFileSync(join(root, 'docs/pictures', `${p.name}.svg`), 'utf8');
      expect([...drawnOps(committed)].sort()).to.deep.equal([...drawnOps(fresh)].sort());
      expect(drawnOps(readFileSync(join(root, 'docs/pictures', `${p.name}.html`), 'utf8'))).to.deep.equal(drawnOps(committed));
    });
  }
});
