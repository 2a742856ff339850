/**
 * The snippets in README.md and every page under docs/ are real files under docs/snippets/,
 * compiled with the project. This spec checks that each code block in the docs is exactly its
 * file, runs the compiled file, and checks that its output is what the docs say it prints. A
 * snippet marked `serve` is a server: it is started first with `PORT` set to a free port, the
 * page's other snippets run with the same `PORT`, and it is stopped after them.
 */

import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { permessageDeflateAvailable } from '../../lib/beast/websocket/index.js';

const root = process.cwd();

/**
 * The snippets whose output says whether permessage-deflate was negotiated, and what they print
 * instead where this Node cannot run it (net/node-internals.ts, 4): the offer is declined and the
 * messages cross uncompressed, as docs/howto/compression.md says.
 */
const withoutDeflate: Readonly<Record<string, (output: string) => string>> = {
  'docs/snippets/howto/compression.ts': (output) => output.replace('permessage-deflate active: true', 'permessage-deflate active: false'),
};
const deflate = permessageDeflateAvailable();
const run = promisify(execFile);

interface Snippet {
  doc: string;
  path: string;
  code: string;
  output: string | undefined;
  serve: boolean;
}

function snippetsOf(doc: string): Snippet[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const pattern = /<!-- snippet: (\S+)( serve)? -->\n```ts\n([\s\S]*?)\n```(?:\n\nIt prints:\n\n```text\n([\s\S]*?)\n```)?/g;
  return [...text.matchAll(pattern)].map((m) => ({ doc, path: m[1]!, code: m[3]!, output: m[4], serve: m[2] !== undefined }));
}

// README.md and every page under docs/ (tutorial/, howto/, topics/), by its path from the root.
const docs = [
  'README.md',
  ...(readdirSync(join(root, 'docs'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.md') && !f.startsWith('reference'))
    .map((f) => `docs/${f}`),
];
const snippets = docs.flatMap(snippetsOf);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function accepting(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => (c.destroy(), resolve(false)));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing accepts on port ${port}`);
}

describe('docs: every snippet compiles, runs and prints what the docs say', () => {
  it('the docs have snippets', () => {
    expect(snippets.length).to.be.greaterThan(5);
  });

  const compiledOf = (s: Snippet): string => join(root, 'dist', s.path.replace(/\.ts$/, '.js'));
  for (const doc of docs) {
    const mine = snippets.filter((s) => s.doc === doc);
    const servers = mine.filter((s) => s.serve);
    if (mine.length === 0) continue;
    describe(doc, () => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      const children: ChildProcess[] = [];
      if (servers.length > 0) {
        before(async () => {
          for (const s of servers) {
            env.PORT = String(await freePort());
            const child = spawn(process.execPath, [compiledOf(s)], { cwd: root, env, stdio: 'ignore' });
            children.push(child);
            await accepting(Number(env.PORT));
          }
        });
        after(async () => {
          for (const c of children) {
            const gone = new Promise((resolve) => c.once('exit', resolve));
            c.kill('SIGTERM');
            await gone;
          }
        });
      }
      for (const s of mine) {
        const declined = deflate ? undefined : withoutDeflate[s.path];
        const note = declined !== undefined ? ' (permessage-deflate declined: no synchronous zlib on this Node)' : '';
        it(`${s.path}${s.serve ? ' (server, running)' : ''}${note}`, async () => {
          const source = readFileSync(join(root, s.path), 'utf8').replace(/\n$/, '');
          expect(s.code, 'the code block differs from the file').to.equal(source);
          if (s.serve) return;
          const { stdout } = await run(process.execPath, [compiledOf(s)], { cwd: root, timeout: 10_000, env });
          if (s.output !== undefined) expect(stdout.replace(/\n$/, '')).to.equal(declined !== undefined ? declined(s.output) : s.output);
        });
      }
    });
  }
});
