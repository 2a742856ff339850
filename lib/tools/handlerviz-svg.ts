/**
 * Draws a parsed handler log (handler-log.ts) as a timeline: one lane per I/O object, one bar per
 * operation from its start to its handler's end, an arrow from the handler that started it,
 * cancellations, errors, drops and exceptions marked. Output is a standalone SVG, or an HTML page
 * holding it with a legend and the ancestry tree. Pure functions: text in, text out.
 */

import type { HandlerLog, Outcome, TrackedOp } from './handler-log.js';

const colors: Record<Outcome, { wait: string; run: string; label: string }> = {
  ok: { wait: '#d5e4fb', run: '#2f6fdb', label: 'completed' },
  error: { wait: '#fbd5d5', run: '#cf2e2e', label: 'completed with an error' },
  aborted: { wait: '#fde3bd', run: '#de7f00', label: 'cancelled (operation aborted)' },
  exception: { wait: '#fbd5d5', run: '#7a0000', label: 'handler threw' },
  dropped: { wait: '#e4e4e4', run: '#8a8a8a', label: 'dropped, never invoked' },
  pending: { wait: '#efefef', run: '#bbbbbb', label: 'still pending at the end' },
};

const left = 200;
const rowH = 18;
const barH = 12;
const laneGap = 12;
const top = 46;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Placed {
  readonly op: TrackedOp;
  readonly y: number;
  readonly x0: number;
  readonly x1: number;
}

/** The log drawn as a standalone SVG document. */
export function renderSvg(log: HandlerLog, title = 'handler tracking'): string {
  const step = Math.max(6, Math.min(18, Math.ceil(1200 / Math.max(1, log.events))));
  const x = (i: number): number => left + 10 + i * step;
  const endIndex = log.events;

  // Lanes in order of first appearance; within a lane, operations in rows that do not overlap.
  const lanes = new Map<string, { rows: number[]; ops: Array<{ op: TrackedOp; row: number }>; first: number }>();
  const lane = (object: string, first: number) => {
    let l = lanes.get(object);
    if (l === undefined) lanes.set(object, (l = { rows: [], ops: [], first }));
    return l;
  };
  const events = [...log.ops.map((o) => ({ i: o.created, object: o.object })), ...log.calls.map((c) => ({ i: c.index, object: c.object }))];
  events.sort((a, b) => a.i - b.i);
  for (const e of events) lane(e.object, e.i);
  for (const op of [...log.ops].sort((a, b) => a.created - b.created)) {
    const l = lane(op.object, op.created);
    // A row is taken up to the end of the bar and of a label drawn after it.
    const barEnd = op.left ?? op.entered ?? endIndex;
    const waitPx = (op.entered ?? op.left ?? endIndex) * step - op.created * step;
    const labelPx = labelOf(op).length * 6 + 10;
    const end = waitPx > labelPx ? barEnd : barEnd + Math.ceil(labelPx / step);
    let row = l.rows.findIndex((lastEnd) => lastEnd < op.created);
    if (row < 0) row = l.rows.push(end) - 1;
    else l.rows[row] = end;
    l.ops.push({ op, row });
  }

  const placed = new Map<number, Placed>();
  const parts: string[] = [];
  let y = top;
  let laneIndex = 0;
  for (const [object, l] of lanes) {
    const rows = Math.max(1, l.rows.length);
    const h = rows * rowH;
    if (laneIndex++ % 2 === 0) parts.push(`<rect x="0" y="${y - 4}" width="100%" height="${h + 8}" fill="#f7f7f9"/>`);
    parts.push(`<text x="10" y="${y + 12}" class="lane">${esc(object === 'operation@0' ? '(unnamed operations)' : object)}</text>`);
    for (const { op, row } of l.ops) {
      const by = y + row * rowH;
      const x0 = x(op.created);
      const xe = x(op.entered ?? op.left ?? endIndex);
      const x1 = op.left !== undefined ? x(op.left) + step * 0.6 : xe;
      placed.set(op.id, { op, y: by, x0, x1 });
      const c = colors[op.outcome];
      const tip = `#${op.id} ${op.object}.${op.op}, started by ${op.parent === 0 ? 'no handler' : '#' + op.parent}` +
        (op.args !== undefined ? `; handler got ${op.args}` : '') + `; ${c.label}`;
      parts.push(`<g class="op ${op.outcome}"><title>${esc(tip)}</title>`);
      parts.push(`<rect x="${x0}" y="${by}" width="${Math.max(2, xe - x0)}" height="${barH}" rx="2" fill="${c.wait}"` +
        (op.outcome === 'pending' ? ' stroke="#999" stroke-dasharray="3 2"' : '') + '/>');
      if (op.entered !== undefined) {
        parts.push(`<rect x="${xe}" y="${by}" width="${Math.max(3, x1 - xe)}" height="${barH}" rx="2" fill="${c.run}"/>`);
      }
      const label = labelOf(op);
      const cls = `op-label ${op.outcome}-label`;
      if (xe - x0 > label.length * 6 + 8) parts.push(`<text x="${x0 + 4}" y="${by + 10}" class="${cls}">${esc(label)}</text>`);
      else parts.push(`<text x="${x1 + 3}" y="${by + 10}" class="${cls} outside">${esc(label)}</text>`);
      if (op.outcome === 'dropped') parts.push(`<text x="${x1 - 4}" y="${by + 10}" class="mark dropped-mark">✕</text>`);
      parts.push('</g>');
    }
    for (const c of log.calls.filter((c) => c.object === object)) {
      const cx = x(c.index);
      parts.push(`<g class="call"><title>${esc(`${c.object}.${c.op}, called by ${c.by === 0 ? 'no handler' : '#' + c.by}`)}</title>` +
        `<path d="M${cx - 5} ${y - 3} L${cx + 5} ${y - 3} L${cx} ${y + 5} Z" fill="#b00020"/>` +
        `<text x="${cx + 6}" y="${y + 4}" class="mark call-mark">${esc(c.op)}</text></g>`);
    }
    y += h + laneGap;
  }

  // Ancestry: an arrow from the handler (or operation) that started an operation to its bar.
  const arrows: string[] = [];
  for (const p of placed.values()) {
    const parent = placed.get(p.op.parent);
    if (parent === undefined) continue;
    const x0 = p.x0;
    const y0 = parent.y + barH / 2;
    const y1 = p.y + (p.y > parent.y ? 0 : barH);
    if (Math.abs(y1 - y0) < 2) continue;
    arrows.push(`<path d="M${x0} ${y0} C${x0 - 14} ${(y0 + y1) / 2} ${x0 - 14} ${(y0 + y1) / 2} ${x0} ${y1}" class="link" marker-end="url(#arrow)"/>`);
  }

  // A time axis: the events are spaced evenly (order is what matters); ticks give real time.
  const ticks: string[] = [];
  const every = Math.max(1, Math.round(80 / step));
  const times = eventTimes(log);
  for (let i = 0; i < endIndex; i += every) {
    ticks.push(`<line x1="${x(i)}" y1="${top - 14}" x2="${x(i)}" y2="${y}" class="tick"/>` +
      `<text x="${x(i) + 2}" y="${top - 18}" class="tick-label">${((times[i]! - log.start) * 1000).toFixed(1)} ms</text>`);
  }

  const width = x(endIndex) + 240;
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<title>${esc(title)}</title>`,
    '<style>.lane{font-size:12px;font-weight:600;fill:#222}.op-label{font-size:10px;fill:#102040}.op-label.outside{fill:#555}' +
      '.op-label.aborted-label{fill:#9a5200;font-weight:700}.op-label.error-label,.op-label.exception-label{fill:#b00020;font-weight:700}' +
      '.mark{font-size:10px;font-weight:700}.aborted-mark{fill:#b86600}.error-mark{fill:#b00020}.dropped-mark{fill:#555}.call-mark{fill:#b00020}' +
      '.link{fill:none;stroke:#7a7a8c;stroke-width:1;opacity:.75}.tick{stroke:#e2e2e8}.tick-label{font-size:9px;fill:#888}</style>',
    '<defs><marker id="arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0 L6 3 L0 6 Z" fill="#7a7a8c"/></marker></defs>',
    `<rect width="100%" height="100%" fill="white"/>`,
    ...ticks,
    ...parts,
    ...arrows,
    '</svg>',
  ].join('\n');
}

function shortEc(args: string | undefined): string {
  const m = /ec=([^,]+)/.exec(args ?? '');
  return m === null ? 'error' : m[1]!;
}

// The bar's text: the initiating function and handler number, and how it ended when not well.
function labelOf(op: TrackedOp): string {
  const base = `${op.op} #${op.id}`;
  switch (op.outcome) {
    case 'aborted': return `${base} · cancelled`;
    case 'error': return `${base} · ${shortEc(op.args)}`;
    case 'exception': return `${base} · threw`;
    case 'dropped': return `${base} · dropped`;
    default: return base;
  }
}

// The time of each event index, from the operations and calls that carry one.
function eventTimes(log: HandlerLog): number[] {
  const t: number[] = new Array<number>(log.events).fill(NaN);
  for (const o of log.ops) t[o.created] = o.createdAt;
  for (const c of log.calls) t[c.index] = c.at;
  let last = log.start;
  for (let i = 0; i < t.length; i++) {
    if (Number.isNaN(t[i])) t[i] = last;
    else last = t[i]!;
  }
  return t;
}

/** The log drawn as a self-contained HTML page: the timeline, a legend, and the ancestry tree. */
export function renderHtml(log: HandlerLog, title = 'handler tracking'): string {
  const children = new Map<number, TrackedOp[]>();
  for (const op of log.ops) {
    const list = children.get(op.parent) ?? [];
    list.push(op);
    children.set(op.parent, list);
  }
  const known = new Set(log.ops.map((o) => o.id));
  const item = (op: TrackedOp, then: boolean): string => {
    const c = colors[op.outcome];
    return `<li>${then ? '↳ ' : ''}<span class="dot" style="background:${c.run}"></span><b>${esc(op.object)}.${esc(op.op)}</b> #${op.id}` +
      ` <span class="args">${esc(op.args ?? '')}</span> <span class="outcome ${op.outcome}">${esc(c.label)}</span>`;
  };
  // A chain of single children (a write loop, each write started by the previous one's handler)
  // is listed flat, each line marked ↳, rather than one level deeper per step.
  const tree = (parent: number): string => {
    const list = children.get(parent);
    if (list === undefined) return '';
    const out: string[] = [];
    for (let op of list) {
      out.push(item(op, false));
      for (;;) {
        const next = children.get(op.id);
        if (next === undefined || next.length !== 1) break;
        out.push('</li>', item((op = next[0]!), true));
      }
      out.push(tree(op.id), '</li>');
    }
    return '<ul>' + out.join('') + '</ul>';
  };
  // Roots: started by no handler, or by one the log does not show (it began mid-run).
  const roots = [...children.keys()].filter((p) => p === 0 || !known.has(p));
  const counts = (Object.keys(colors) as Outcome[]).map((o) => [o, log.ops.filter((op) => op.outcome === o).length] as const);
  const legend = counts.map(([o, n]) => `<span class="key"><span class="swatch" style="background:${colors[o].wait};border-color:${colors[o].run}"></span>${esc(colors[o].label)} (${n})</span>`).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 4px}
p.sub{margin:0 0 10px;color:#555;font-size:13px}
.key{font-size:12px;margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:22px;height:10px;border-left:6px solid;margin-right:5px;vertical-align:middle}
.scroll{overflow-x:auto;border:1px solid #ddd;margin:10px 0}
ul{list-style:none;padding-left:18px;margin:2px 0;font-size:12px}
.dot{display:inline-block;width:8px;height:8px;border-radius:4px;margin-right:5px}
.args{color:#666;font-family:ui-monospace,monospace}
.outcome{font-size:11px;color:#555}.outcome.aborted{color:#b86600}.outcome.error,.outcome.exception{color:#b00020}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="sub">${log.ops.length} operations, ${log.calls.length} cancel/close calls, ${((log.end - log.start) * 1000).toFixed(1)} ms.
Each bar runs from the operation's start to its handler's end (light: in flight; dark: the handler running);
arrows go from the handler that started an operation; ▼ marks a cancel or close.</p>
<div>${legend} <span class="key"><span style="color:#b00020">▼</span> cancel / close</span></div>
<div class="scroll">${renderSvg(log, title)}</div>
<h2 style="font-size:15px">Which handler started which operation</h2>
${roots.map((r) => tree(r)).join('')}
</body></html>
`;
}
