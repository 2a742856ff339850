// Deletes the files under dist/ whose TypeScript source is gone (a spec, example or module that
// was deleted or renamed), so that `npm test` can build into place without deleting dist/: a demo
// started from the same checkout keeps its files, and mocha finds no spec that no longer exists.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const outputs = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (outputs.test(entry.name)) {
      const source = join(root, relative(dist, path).replace(outputs, '.ts'));
      if (!existsSync(source)) rmSync(path);
    }
  }
}

if (existsSync(dist)) prune(dist);
