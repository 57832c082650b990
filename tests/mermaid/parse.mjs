// Parses every ```mermaid block of the Markdown files given as arguments
// with the `mermaid` npm package under `jsdom`, the way a Markdown viewer
// would. Usage: node parse.mjs NODE_MODULES FILE...
// Prints one line per block; exits 1 when a block does not parse.
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
    } catch (e) {
      failed += 1;
      console.log(`${file}:${line}: ${String(e.message || e).split("\n").slice(0, 4).join(" | ")}`);
    }
  }
}
console.log(`${blocks} blocks, ${failed} failed`);
process.exit(failed > 0 || blocks === 0 ? 1 : 0);
