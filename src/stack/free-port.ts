import net from 'node:net';

/** The first free TCP port on 127.0.0.1 at or after `preferred` (or any free port for 0). */
export async function freePort(preferred = 0, tries = 20): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = preferred === 0 ? 0 : preferred + i;
    const got = await new Promise<number | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    });
    if (got !== undefined) return got;
  }
  throw new Error(`No free port found from ${preferred} to ${preferred + tries - 1}.`);
}
