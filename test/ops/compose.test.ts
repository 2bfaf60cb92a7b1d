import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_VARS, loadConfig } from '../../src/config/config';
import { FAX_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { REPO } from '../entrypoints/cli-process';

/**
 * docker-compose.yml against what faxflow reads: a variable faxflow does not know, a port the
 * command does not listen on, or an address naming no service would only show up once deployed.
 */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  ports?: string[];
  expose?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

/** Compose's interpolation with no variables set: `${X:-default}` → default, `$$` → `$`. */
function interpolate(value: string): string {
  return value
    .replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '')
    .replace(/\$\$/g, '$');
}

function envOf(name: string): Record<string, string> {
  const env = services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v))]));
}

const faxflowServices = Object.entries(services)
  .filter(([, s]) => s.image?.startsWith('faxflow:'))
  .map(([name]) => name);

function containerPorts(s: Service): number[] {
  return [...(s.ports ?? []), ...(s.expose ?? [])].map((p) => Number(String(p).split(':').pop()));
}

describe('docker-compose.yml', () => {
  it('runs the production shape: Temporal on PostgreSQL, its UI, the API, workers, the simulator under a profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'postgres',
        'simulator',
        'temporal',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
        'worker',
      ].sort(),
    );
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(envOf('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(services.temporal!.command).toBeUndefined(); // not the dev server
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(services.simulator!.profiles).toEqual(['simulator']);
    for (const name of ['api', 'worker', 'postgres', 'temporal', 'temporal-ui']) {
      expect(services[name]!.profiles, name).toBeUndefined();
    }
    expect(faxflowServices.sort()).toEqual(['api', 'simulator', 'worker']);
    for (const name of faxflowServices) expect(services[name]!.build, name).toBe('.');
  });

  it('pins every image tag', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
  });

  it("sets only variables faxflow's config reads, and values it accepts", () => {
    for (const name of faxflowServices) {
      const env = envOf(name);
      for (const key of Object.keys(env)) {
        // Node's own: the worker's heap cap (README "Scaling out").
        if (key === 'NODE_OPTIONS') expect(env[key], name).toMatch(/^--max-old-space-size=\d+$/);
        else expect(CONFIG_ENV_VARS, `${name}: ${key}`).toContain(key);
      }
      expect(() => loadConfig(env), name).not.toThrow();
    }
    for (const name of ['api', 'worker']) {
      const config = loadConfig(envOf(name));
      expect(config.databaseUrl, name).toBeDefined();
      expect(config.temporalAddress, name).toBeDefined();
      expect(config.ringcentral, name).toBeDefined();
    }
  });

  it('points faxflow at services that exist, on the ports they listen on', () => {
    for (const name of ['api', 'worker']) {
      const config = loadConfig(envOf(name));
      const db = new URL(config.databaseUrl!);
      expect(db.hostname).toBe('postgres');
      expect(db.port).toBe('5432');
      expect(db.pathname).toBe(`/${envOf('postgres').POSTGRES_DB}`);
      expect(decodeURIComponent(db.password)).toBe(envOf('postgres').POSTGRES_PASSWORD);
      expect(config.temporalAddress).toBe('temporal:7233');
      expect(containerPorts(services.temporal!)).toContain(7233);
      // The simulator listens where the default RingCentral URL says.
      const rc = new URL(config.ringcentral!.serverUrl);
      expect(rc.hostname).toBe('simulator');
      const simCommand = services.simulator!.command as string[];
      expect(simCommand[0]).toBe('simulator');
      expect(simCommand[simCommand.indexOf('--port') + 1]).toBe(rc.port);
      expect(simCommand[simCommand.indexOf('--host') + 1]).toBe('0.0.0.0');
      expect(containerPorts(services.simulator!)).toContain(Number(rc.port));
      expect(services[name]!.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('publishes the API on its port and reaches each worker on its metrics port', () => {
    const api = loadConfig(envOf('api'));
    expect(services.api!.command).toEqual(['api']);
    expect(api.apiHost).toBe('0.0.0.0');
    expect(containerPorts(services.api!)).toContain(api.apiPort);
    const publicUrl = new URL(api.publicUrl!);
    expect([publicUrl.hostname, Number(publicUrl.port)]).toEqual(['api', api.apiPort]);

    const worker = loadConfig(envOf('worker'));
    expect(services.worker!.command).toEqual(['worker']);
    expect(worker.metricsHost).toBe('0.0.0.0');
    expect(worker.metricsPort).toBeDefined();
    expect(containerPorts(services.worker!)).toContain(worker.metricsPort);
  });

  it("registers every search attribute faxflow's workflows set", () => {
    const setup = interpolate(String(services['temporal-namespace']!.command));
    const registered = /for name in ([\w ]+); do/.exec(setup)?.[1]?.trim().split(/\s+/);
    expect(registered?.sort()).toEqual(FAX_SEARCH_ATTRIBUTES.map((k) => k.name).sort());
    expect(setup).toContain('--type Keyword');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));

  it('builds from a pinned node:20 image in two stages', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-[\w-]+$/m);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS (\w+)$/gm)).toEqual([
      'FROM ${NODE_IMAGE} AS build',
      'FROM ${NODE_IMAGE} AS runtime',
    ]);
    expect(dockerfile).toMatch(/RUN npm ci [^\n]*\n/);
    expect(dockerfile).toContain('RUN npm run build');
  });

  it('runs the production build, without dev dependencies, as a non-root user, on the ports compose uses', () => {
    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toMatch(/FAXFLOW_PREBUILT=1/);
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).not.toMatch(/COPY (src|scripts) /);
    expect(runtime).toMatch(/^USER node$/m);
    const exposed = /^EXPOSE (.+)$/m.exec(runtime)![1]!.split(/\s+/).map(Number);
    const api = loadConfig(envOf('api'));
    const worker = loadConfig(envOf('worker'));
    const sim = services.simulator!.command as string[];
    expect(exposed).toEqual(
      expect.arrayContaining([api.apiPort, worker.metricsPort, Number(sim[sim.indexOf('--port') + 1])]),
    );
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "bin\/faxflow\.js"\]$/m);
  });
});
