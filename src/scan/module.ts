// The scan module: scans each image pushed to the registry (and on demand), stores reports in SQLite,
// pushes the SBOM as an OCI referrer, and serves reports under /api/v1/scan.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import {
  type Clock,
  describeError,
  type EventBus,
  InputError,
  type Logger,
  NotFoundError,
  systemClock,
} from '../core/index.ts';
import { isDigest, MEDIA_TYPES, type RegistryClient } from '../oci/index.ts';
import type { Store } from '../store/index.ts';
import type { OsvDatabase } from './osv.ts';
import { importOsvDatabase, loadOsvDatabase, type OsvImportResult } from './osv-store.ts';
import { checkPolicy, type PolicyResult, type ScanPolicy } from './policy.ts';
import { type ScanReport, Scanner } from './scanner.ts';

/** What the registry tells us about a push (the registry declares the `registry.push` event). */
export interface RegistryPushNotice {
  repository: string;
  digest: string;
  tag?: string;
  mediaType?: string;
}

export interface ScanDeps {
  store: Store;
  dataDir: string;
  logger: Logger;
  auth: AuthService;
  /** Subscribed loosely to `registry.push` (data with `repository`/`repo` and `digest`). */
  events?: EventBus;
  /** Alternatively, a function that subscribes to pushes; returns the unsubscribe function. */
  onPush?: (callback: (notice: RegistryPushNotice) => void) => () => void;
  /** How to reach Slipway's own registry (host such as `127.0.0.1:8080`, and a client with credentials). */
  registry?: { host: string; client: RegistryClient };
  clock?: Clock;
  /** Push each SBOM as an OCI referrer of the image after a scan on push (default true). */
  pushSbom?: boolean;
}

export interface ScanModule {
  routes: FastifyPluginAsync;
  start(): Promise<void>;
  stop(): Promise<void>;
  scanner: Scanner;
  /** Scans an image of Slipway's registry now and stores the report. */
  scan(repository: string, reference: string): Promise<ScanReport>;
  getReport(repository: string, digest: string): ScanReport | undefined;
  importDatabase(path: string): Promise<OsvImportResult>;
  /** Checks the stored report of an image against a policy (not-yet-scanned images pass with a note). */
  checkImage(repository: string, digest: string, policy: ScanPolicy): PolicyResult & { scanned: boolean };
  /** Resolves when queued scans are done (tests). */
  idle(): Promise<void>;
}

const IMAGE_CONFIG_TYPES = new Set<string>([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);

export function createScan(deps: ScanDeps): ScanModule {
  const { store, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const scanDir = join(deps.dataDir, 'scan');
  store.migrate({
    module: 'scan',
    steps: [
      `CREATE TABLE scan_reports (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        scanned_at TEXT NOT NULL,
        counts TEXT NOT NULL,
        report TEXT NOT NULL,
        PRIMARY KEY (repository, digest));
       CREATE INDEX scan_reports_time ON scan_reports(scanned_at);`,
    ],
  });

  let db: { db: OsvDatabase; mtimeMs: number } | undefined;
  const database = async (): Promise<OsvDatabase> => {
    const { stat } = await import('node:fs/promises');
    const mtime = await stat(join(scanDir, 'osv-index.json')).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (!db || db.mtimeMs !== mtime) db = await loadOsvDatabase(scanDir);
    return db.db;
  };
  const registry = () => {
    if (!deps.registry)
      throw new InputError('Scanning needs the registry: the scan module was created without one');
    return deps.registry;
  };
  const scanner = new Scanner({
    database,
    ...(deps.registry ? { client: deps.registry.client } : {}),
    clock,
  });

  const save = store.db.prepare(
    `INSERT INTO scan_reports (repository, digest, scanned_at, counts, report) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (repository, digest) DO UPDATE SET scanned_at = excluded.scanned_at, counts = excluded.counts, report = excluded.report`,
  );
  const load = store.db.prepare<[string, string], { report: string }>(
    'SELECT report FROM scan_reports WHERE repository = ? AND digest = ?',
  );

  const getReport = (repository: string, digest: string): ScanReport | undefined => {
    const row = load.get(repository, digest);
    return row ? (JSON.parse(row.report) as ScanReport) : undefined;
  };

  const scan = async (repository: string, reference: string): Promise<ScanReport> => {
    const { host, client } = registry();
    const full = await scanner.scanImage({ client, registry: host, repository, digest: reference });
    const { packages: _packages, ...report } = full;
    save.run(
      repository,
      report.image.digest,
      report.scannedAt,
      JSON.stringify(report.counts),
      JSON.stringify(report),
    );
    return report;
  };

  // Scans on push run one at a time, each digest once per queue.
  let chain: Promise<void> = Promise.resolve();
  const queued = new Set<string>();
  const onPush = (notice: RegistryPushNotice) => {
    const key = `${notice.repository}@${notice.digest}`;
    if (!notice.repository || !notice.digest || queued.has(key) || !deps.registry) return;
    queued.add(key);
    chain = chain.then(async () => {
      queued.delete(key);
      try {
        const { host, client } = registry();
        const m = await client.getManifest(host, notice.repository, notice.digest);
        const cfg = 'config' in m.json ? m.json.config : undefined;
        if (!cfg || !IMAGE_CONFIG_TYPES.has(cfg.mediaType)) return; // an index or an artifact (e.g. our SBOMs)
        const report = await scan(notice.repository, notice.digest);
        logger.info(
          { repository: notice.repository, digest: report.image.digest, counts: report.counts },
          'image scanned',
        );
        if (deps.pushSbom !== false) {
          await scanner.pushSbom({
            client,
            registry: host,
            repository: notice.repository,
            digest: report.image.digest,
          });
        }
      } catch (err) {
        logger.warn(
          { repository: notice.repository, digest: notice.digest, err: describeError(err) },
          'scan failed',
        );
      }
    });
  };

  let unsubscribe: (() => void) | undefined;

  const routes: FastifyPluginAsync = async (app) => {
    const projectOf = (repository: string) => ({
      kind: 'project' as const,
      name: repository.split('/')[0] ?? '',
    });

    app.get('/reports', async (request) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'repo.read', { kind: 'system' });
      const q = request.query as { repository?: string; limit?: string };
      const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
      const rows = (
        q.repository
          ? store.db
              .prepare(
                'SELECT repository, digest, scanned_at, counts FROM scan_reports WHERE repository = ? ORDER BY scanned_at DESC LIMIT ?',
              )
              .all(q.repository, limit)
          : store.db
              .prepare(
                'SELECT repository, digest, scanned_at, counts FROM scan_reports ORDER BY scanned_at DESC LIMIT ?',
              )
              .all(limit)
      ) as { repository: string; digest: string; scanned_at: string; counts: string }[];
      return {
        items: rows.map((r) => ({
          repository: r.repository,
          digest: r.digest,
          scannedAt: r.scanned_at,
          counts: JSON.parse(r.counts),
        })),
      };
    });

    app.get('/reports/*', async (request) => {
      const rest = (request.params as { '*': string })['*'] ?? '';
      const slash = rest.lastIndexOf('/');
      const repository = slash > 0 ? rest.slice(0, slash) : '';
      const digest = rest.slice(slash + 1);
      if (!repository || !isDigest(digest)) {
        throw new InputError(`Expected /api/v1/scan/reports/<repository>/<sha256 digest>, got "${rest}"`, {
          location: { field: 'path' },
        });
      }
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'registry.pull', projectOf(repository));
      const report = getReport(repository, digest);
      if (!report) throw new NotFoundError(`No scan report for ${repository}@${digest}`);
      return report;
    });

    app.post('/', async (request) => {
      const body = (request.body ?? {}) as { repository?: unknown; digest?: unknown; tag?: unknown };
      if (typeof body.repository !== 'string' || body.repository === '') {
        throw new InputError('repository is required', { location: { field: 'repository' } });
      }
      const reference =
        typeof body.digest === 'string' ? body.digest : typeof body.tag === 'string' ? body.tag : '';
      if (!reference) throw new InputError('digest or tag is required', { location: { field: 'digest' } });
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'registry.push', projectOf(body.repository));
      const report = await scan(body.repository, reference);
      deps.auth.audit({
        actor: subject,
        action: 'scan.run',
        resource: `repository/${body.repository}`,
        details: { digest: report.image.digest },
      });
      return report;
    });

    app.get('/db', async (request) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'repo.read', { kind: 'system' });
      return { advisories: (await database()).size };
    });

    app.post('/db/import', async (request) => {
      const subject = await deps.auth.authenticate(request.headers);
      deps.auth.require(subject, 'scan.admin', { kind: 'system' });
      const body = (request.body ?? {}) as { path?: unknown };
      if (typeof body.path !== 'string' || body.path === '') {
        throw new InputError('path (a directory or zip of OSV JSON files on the server) is required', {
          location: { field: 'path' },
        });
      }
      const result = await importOsvDatabase(body.path, scanDir);
      deps.auth.audit({
        actor: subject,
        action: 'scan.db.import',
        resource: 'scan/db',
        details: { advisories: result.advisories },
      });
      return result;
    });
  };

  return {
    routes,
    scanner,
    scan,
    getReport,
    importDatabase: (path) => importOsvDatabase(path, scanDir),
    checkImage(repository, digest, policy) {
      const report = getReport(repository, digest);
      if (!report) return { ok: true, scanned: false };
      return { ...checkPolicy(report, policy), scanned: true };
    },
    async start() {
      if (deps.onPush) unsubscribe = deps.onPush(onPush);
      else if (deps.events) {
        unsubscribe = deps.events.onAny((event) => {
          if ((event.type as string) !== 'registry.push') return;
          const data = event.data as unknown as Record<string, unknown>;
          const repository = (data.repository ?? data.repo ?? data.name) as unknown;
          const digest = data.digest as unknown;
          if (typeof repository === 'string' && typeof digest === 'string') {
            onPush({ repository, digest, ...(typeof data.tag === 'string' ? { tag: data.tag } : {}) });
          }
        });
      }
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      await chain;
    },
    idle: () => chain,
  };
}
