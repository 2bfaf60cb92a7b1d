/**
 * Simulator throughput: submits 1-page PDF faxes as fast as possible from several concurrent clients
 * over keep-alive connections (rate limits off) for a few seconds, then prints faxes accepted per second.
 *
 *   npx tsx bench/simulator-throughput.ts [--seconds 5] [--concurrency 16] [--client fetch|http]
 *
 * The default client is node:http with a keep-alive agent and a multipart/form-data body built once
 * (the same bytes the official sample's form-data produces): on a 2-core machine the client shares the
 * CPU with the simulator, and fetch + FormData costs several times more CPU per request than the
 * simulator itself, so `--client fetch` mostly measures undici.
 */
import http from 'node:http';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { startSimulator } from '../src/simulator/index';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? undefined : Number(process.argv[i + 1]);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : dflt;
}

async function onePagePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([612, 792]).drawText('benchmark page', { x: 50, y: 700, font, size: 12 });
  return doc.save();
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 16);
  const client = process.argv.includes('fetch') ? 'fetch' : 'http';
  const sim = await startSimulator({ rateLimits: false, timeScale: 1 });
  try {
    const basic = Buffer.from(`${sim.credentials.clientId}:${sim.credentials.clientSecret}`).toString(
      'base64',
    );
    const tr = await fetch(`${sim.url}/restapi/oauth/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: sim.credentials.jwt,
      }),
    });
    const { access_token: token } = (await tr.json()) as { access_token: string };
    const pdf = await onePagePdf();
    const envelope = JSON.stringify({ to: [{ phoneNumber: '+16505550100' }], faxResolution: 'High' });
    const url = `${sim.url}/restapi/v1.0/account/~/extension/~/fax`;

    let accepted = 0;
    let failed = 0;
    const deadline = Date.now() + seconds * 1000;
    const t0 = performance.now();

    const viaFetch = async (): Promise<number> => {
      const fd = new FormData();
      fd.append('json', new Blob([envelope], { type: 'application/json' }), 'request.json');
      fd.append('attachment', new Blob([pdf], { type: 'application/pdf' }), 'page.pdf');
      const r = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: fd });
      await r.arrayBuffer();
      return r.status;
    };

    const boundary = '----faxflowbench7MA4YWxkTrZu0gW';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="json"; filename="request.json"\r\n` +
          `Content-Type: application/json\r\n\r\n${envelope}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="page.pdf"\r\n` +
          `Content-Type: application/pdf\r\n\r\n`,
      ),
      Buffer.from(pdf),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const headers = {
      Authorization: `Bearer ${token}`,
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': String(body.length),
    };
    const viaHttp = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });

    const send = client === 'fetch' ? viaFetch : viaHttp;
    const worker = async (): Promise<void> => {
      while (Date.now() < deadline) {
        if ((await send()) === 200) accepted++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
    agent.destroy();
    const elapsed = (performance.now() - t0) / 1000;
    const rate = accepted / elapsed;
    console.log(
      `simulator throughput: ${accepted} faxes accepted in ${elapsed.toFixed(2)} s = ${rate.toFixed(0)} faxes/s ` +
        `(${client} client, ${concurrency} concurrent, keep-alive, 1-page PDF of ${pdf.length} bytes, ${failed} failures)`,
    );
  } finally {
    await sim.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
