// Parse each diagram given on stdin (a JSON list of strings) with Mermaid's own parser.
// Prints a JSON list: for each diagram, its type when it parses, or the parser's error.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const text of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (error) {
    results.push({ ok: false, error: String(error.message || error).split("\n").slice(0, 3).join(" ") });
  }
}
process.stdout.write(JSON.stringify(results));
