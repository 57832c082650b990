// Parses every ```mermaid block of the Markdown files given as arguments
// with the `mermaid` npm package under `jsdom`, the way a Markdown viewer
// would. Usage: node parse.mjs NODE_MODULES FILE...
// Prints one line per block; exits 1 when a block does not parse.
// With VIRTPLAN_GANTT_TASKS=1 it also prints, for every task of every gantt
// block, one JSON line with the block's number, the task's section and name,
// and its start and end as Mermaid computed them (run it with TZ=UTC: the
// times are printed in UTC as YYYY-MM-DD HH:mm).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, ...files] = process.argv.slice(2);
const require = createRequire(join(modules, "noop.js"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
globalThis.HTMLElement = dom.window.HTMLElement;
const mermaid = (
  await import(pathToFileURL(join(modules, "mermaid", "dist", "mermaid.core.mjs")).href)
).default;
mermaid.initialize({ startOnLoad: false });

const tasks = process.env.VIRTPLAN_GANTT_TASKS === "1";
const clock = (d) =>
  Number.isNaN(d?.getTime?.())
    ? "invalid"
    : d.toISOString().slice(0, 16).replace("T", " ");
let failed = 0;
let blocks = 0;
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const re = /^```mermaid\n([\s\S]*?)^```$/gm;
  let m;
  while ((m = re.exec(text)) !== null) {
    blocks += 1;
    const line = text.slice(0, m.index).split("\n").length;
    try {
      await mermaid.parse(m[1]);
      if (tasks && /^gantt\b/.test(m[1])) {
        const diagram = await mermaid.mermaidAPI.getDiagramFromText(m[1]);
        for (const t of diagram.db.getTasks()) {
          console.log(
            JSON.stringify({
              block: blocks,
              section: t.section,
              task: t.task,
              start: clock(t.startTime),
              end: clock(t.endTime),
            }),
          );
        }
      }
    } catch (e) {
      failed += 1;
      console.log(`${file}:${line}: ${String(e.message || e).split("\n").slice(0, 4).join(" | ")}`);
    }
  }
}
console.log(`${blocks} blocks, ${failed} failed`);
process.exit(failed > 0 || blocks === 0 ? 1 : 0);
