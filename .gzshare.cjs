// per-source-file contribution to gz: gz(all) - gz(all without that file's bytes)
const fs = require('fs'), zlib = require('zlib');
const { SourceMapConsumer } = require('source-map-js');
const code = fs.readFileSync('/tmp/csm.js', 'utf8');
const map = JSON.parse(fs.readFileSync('/tmp/csm.js.map', 'utf8'));
const c = new SourceMapConsumer(map);
const lines = code.split('\n');
const lineStart = []; let off = 0; for (const l of lines) { lineStart.push(off); off += l.length + 1; }
const owner = new Array(code.length).fill(null);
const mappings = [];
c.eachMapping((m) => mappings.push(m));
mappings.sort((a, b) => a.generatedLine - b.generatedLine || a.generatedColumn - b.generatedColumn);
for (let i = 0; i < mappings.length; i++) {
  const m = mappings[i], n = mappings[i + 1];
  const s = lineStart[m.generatedLine - 1] + m.generatedColumn;
  const e = n ? lineStart[n.generatedLine - 1] + n.generatedColumn : code.length;
  for (let k = s; k < e; k++) owner[k] = m.source;
}
const gz = (s) => zlib.gzipSync(s, { level: 9 }).length;
const total = gz(code);
const files = [...new Set(owner.filter(Boolean))];
const rows = files.map((f) => { let s = ''; let own = 0; for (let k = 0; k < code.length; k++) { if (owner[k] === f) own++; else s += code[k]; } return [total - gz(s), own, f.replace(/.*src\//, '')]; });
rows.sort((a, b) => b[0] - a[0]);
console.log('total gz', total);
for (const r of rows) if (r[0] > 60) console.log(String(r[0]).padStart(6), String(r[1]).padStart(6), r[2]);
