/**
 * `npm run bench:validation [-- --pages 200 --mb 49 --runs 3]`
 *
 * faxflow's document validation on the largest fax RingCentral accepts (200 pages, ~50 MB PDF),
 * beside poppler's `pdfinfo` counting the same pages in the same run. Each measurement runs in a
 * fresh child process so its peak RSS is its own. Prints medians and writes
 * bench/results/validation.json.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import { printTable } from '../support/measure';
import { benchResultsDir } from '../support/results';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = benchResultsDir();

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '200' },
    mb: { type: 'string', default: '49' },
    runs: { type: 'string', default: '3' },
  },
});
const PAGES = Number(values.pages);
const TARGET_BYTES = Number(values.mb) * 1024 * 1024;
const RUNS = Number(values.runs);

/** A PDF of `pages` pages, each carrying an incompressible stream, so the file is about `bytes` big. */
async function bigPdf(pages: number, bytes: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const perPage = Math.floor((bytes - 20_000) / pages);
  for (let i = 0; i < pages; i++) {
    const page = doc.addPage([612, 792]);
    page.drawText(`Page ${i + 1} of ${pages}`, { x: 72, y: 720, size: 14, font });
    // Random bytes as an unused form XObject referenced from the page: it counts in the file size
    // and must be parsed like any page content, as a scanned page's image would.
    const blob = doc.context.stream(randomBytes(perPage), {
      Type: 'XObject',
      Subtype: 'Form',
      BBox: [0, 0, 1, 1],
    });
    const ref = doc.context.register(blob);
    page.node.setXObject(PDFName.of(`Blob${i}`), ref);
  }
  return doc.save({ useObjectStreams: false });
}

interface Measure {
  ms: number;
  peakRssMb: number;
  pages: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** faxflow's own check (the one prepareFaxJob runs), in a fresh Node process. */
async function faxflowValidation(file: string): Promise<Measure> {
  const script = `
    import { readFile } from 'node:fs/promises';
    import { inspectDocumentSet } from ${JSON.stringify(path.resolve(HERE, '../../src/validation/inspect-document-set.ts'))};
    const bytes = new Uint8Array(await readFile(${JSON.stringify(file)}));
    const t0 = performance.now();
    const r = await inspectDocumentSet([{ bytes, name: 'big.pdf' }]);
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ ms, pages: r.pages, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Measure;
}

/** poppler's pdfinfo under GNU time: wall time and peak RSS of the whole process. */
async function pdfinfo(file: string): Promise<Measure | undefined> {
  try {
    const t0 = performance.now();
    const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', 'pdfinfo', file]);
    const ms = performance.now() - t0;
    const pages = Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
    const rssKb = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1]);
    return { ms, pages, peakRssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-bench-validation-'));
  try {
    const file = path.join(dir, 'big.pdf');
    const bytes = await bigPdf(PAGES, TARGET_BYTES);
    await writeFile(file, bytes);
    const ours: Measure[] = [];
    const theirs: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await faxflowValidation(file));
      const p = await pdfinfo(file);
      if (p) theirs.push(p);
    }
    const row = (name: string, ms: Measure[]) => [
      name,
      ms.length ? median(ms.map((m) => m.ms)).toFixed(0) : 'n/a',
      ms.length ? median(ms.map((m) => m.peakRssMb)).toFixed(0) : 'n/a',
      ms.length ? String(ms[0]!.pages) : 'n/a',
    ];
    const sizeMb = bytes.length / 1024 / 1024;
    printTable(
      `Validation of a ${PAGES}-page, ${sizeMb.toFixed(1)} MB PDF (median of ${RUNS}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`,
      ['tool', 'time ms', 'peak RSS MB (whole process)', 'pages counted'],
      [
        row('faxflow inspectDocumentSet', ours),
        row(theirs.length ? 'pdfinfo (poppler)' : 'pdfinfo (not installed)', theirs),
      ],
    );
    await mkdir(RESULTS, { recursive: true });
    await writeFile(
      path.join(RESULTS, 'validation.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, load1: os.loadavg()[0], node: process.version },
          file: { pages: PAGES, bytes: bytes.length },
          faxflow: ours,
          pdfinfo: theirs,
        },
        null,
        2,
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
