// Parses Mermaid diagrams with Mermaid's own parser and prints what it read, for
// tests/test_picture.py. Reads a JSON array of diagram texts (without the Markdown fence) on
// standard input; prints a JSON array, one entry per diagram:
//   {"ok": true, "type": ..., "config": {settings from directives or front matter},
//    "vertices": [[id, text, classes]], "edges": [[from, to, text,
//    stroke]], "subgraphs": [[id, title, node ids]]}   or   {"ok": false, "error": ...}
// Texts are decoded as Mermaid decodes them before drawing (its encodeEntities turns "#34;"
// into placeholders at parse time; decodeEntities in mermaidAPI turns them into HTML entities),
// so a test can compare a label with the text the picture meant to show.
//
// Mermaid needs a DOM for its sanitizer (DOMPurify): jsdom gives it one. No browser, no
// network. Install: `npm ci --prefix tests/mermaid` (.ci/run does).
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

// mermaidAPI's decodeEntities.
const decode = (text) =>
  String(text ?? "")
    .replace(/ﬂ°°/g, "&#")
    .replace(/ﬂ°/g, "&")
    .replace(/¶ß/g, ";");

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const texts = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const out = [];
for (const text of texts) {
  try {
    const parsed = await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    out.push({
      ok: true,
      type: diagram.type,
      config: parsed.config ?? {},
      vertices: [...db.getVertices().values()].map((v) => [v.id, decode(v.text), v.classes]),
      edges: db.getEdges().map((e) => [e.start, e.end, decode(e.text), e.stroke]),
      subgraphs: db.getSubGraphs().map((s) => [s.id, decode(s.title), s.nodes]),
    });
  } catch (error) {
    out.push({ ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(out));
