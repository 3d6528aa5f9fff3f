// The registry's storage operations: uploads, blobs, manifests, tags, referrers and garbage collection.
// Callers (the /v2 routes, other modules in-process) have already been authorised.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock, EventBus, Logger } from '../core/index.ts';
import { isIndexMediaType, MEDIA_TYPES } from '../oci/index.ts';
import type { BlobStore } from './blob-store.ts';
import type { BlobReader } from './direct-io.ts';
import { type Descriptor, isForeignLayer, MAX_MANIFEST_BYTES, parseManifest } from './manifest.ts';
import type { ManifestRow, Statements } from './metadata.ts';
import { parseReference, parseRepository } from './names.ts';
import { OciError } from './oci-errors.ts';
import type { ProjectService } from './projects.ts';

declare module '../core/index.ts' {
  interface EventMap {
    /** A manifest was stored (tag is null when pushed by digest). */
    'registry.push': { repository: string; tag: string | null; digest: string; mediaType: string };
    /** A manifest or tag was deleted. */
    'registry.delete': { repository: string; reference: string };
  }
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subject: string | null;
}

export interface GcResult {
  dryRun: boolean;
  deletedBlobs: string[];
  freedBytes: number;
  deletedManifests: { repository: string; digest: string }[];
  removedUploads: number;
  keptRecent: number;
}

export interface RegistryServiceOptions {
  statements: Statements;
  blobs: BlobStore;
  projects: ProjectService;
  events: EventBus;
  logger: Logger;
  clock: Clock;
  /** Blobs linked or written within this many seconds are never collected (protects pushes in flight). */
  gcGraceSeconds: number;
  /** Uploads idle for longer than this are deleted. */
  uploadTtlSeconds: number;
}

const MANIFEST_CACHE_BYTES = 64 * 1024 * 1024;
/** Files in uploads/ without a record (manifest temp files, crashed writes) are left alone this long. */
const STRAY_UPLOAD_MIN_AGE_MS = 10 * 60_000;

function toInfo(row: ManifestRow): ManifestInfo {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type,
    subject: row.subject,
  };
}

export class RegistryService {
  readonly #s: Statements;
  readonly #blobs: BlobStore;
  readonly projects: ProjectService;
  readonly #events: EventBus;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #uploadTtlMs: number;
  /** Digests being moved into place right now: GC must not touch them. */
  readonly #inflight = new Map<string, number>();
  readonly #manifestCache = new Map<string, Buffer>();
  #manifestCacheBytes = 0;
  #gcRunning: Promise<GcResult> | undefined;

  constructor(options: RegistryServiceOptions) {
    this.#s = options.statements;
    this.#blobs = options.blobs;
    this.projects = options.projects;
    this.#events = options.events;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#graceMs = options.gcGraceSeconds * 1000;
    this.#uploadTtlMs = options.uploadTtlSeconds * 1000;
  }

  #now(): number {
    return this.#clock.now();
  }

  #hold(digest: string): void {
    this.#inflight.set(digest, (this.#inflight.get(digest) ?? 0) + 1);
  }

  #release(digest: string): void {
    const n = (this.#inflight.get(digest) ?? 1) - 1;
    if (n <= 0) this.#inflight.delete(digest);
    else this.#inflight.set(digest, n);
  }

  #ensureRepository(repo: string): void {
    const { project } = parseRepository(repo);
    this.#s.repoInsert.run(repo, project, this.#now());
  }

  /** Throws DENIED when linking `size` more bytes would take the project over its quota. */
  #checkQuota(repo: string, digest: string, size: number): void {
    const { project } = parseRepository(repo);
    const quota = this.projects.quotaOf(project);
    if (quota === null) return;
    if (this.#s.projectHasBlob.get(project, digest)) return;
    const used = this.#s.projectUsage.get(project)?.bytes ?? 0;
    if (used + size > quota) {
      throw new OciError(
        'DENIED',
        `Storage quota of project "${project}" exceeded: ${used} of ${quota} bytes used, this blob needs ${size} more`,
        { detail: { project, quotaBytes: quota, usedBytes: used, blobBytes: size } },
      );
    }
  }

  /** Links a blob that exists in storage into `repo` (quota checked). */
  #link(repo: string, digest: string, size: number): void {
    this.#s.db.transaction(() => {
      this.#checkQuota(repo, digest, size);
      this.#ensureRepository(repo);
      this.#s.repoBlobLink.run(repo, digest, this.#now());
    })();
  }

  // ---- blobs -------------------------------------------------------------------------------------

  /** Size of a blob visible in `repo`, or undefined. A hit refreshes the link (GC grace). */
  statBlob(repo: string, digest: string): number | undefined {
    const row = this.#s.repoBlobGet.get(repo, digest);
    return row?.size;
  }

  /** Size of a blob anywhere in the registry, or undefined. */
  blobSizeAnywhere(digest: string): number | undefined {
    return this.#s.blobGet.get(digest)?.size;
  }

  /** Marks a blob as just used by a client in `repo`, so GC's grace period starts again. */
  touchBlob(repo: string, digest: string): void {
    this.#s.repoBlobLink.run(repo, digest, this.#now());
  }

  /** Reads a blob's bytes (optionally a byte range, inclusive). */
  readBlob(digest: string, range?: { start: number; end: number }): Readable {
    return this.#blobs.readBlob(digest, range);
  }

  /**
   * Opens a blob's file for reading (the /v2 routes send it themselves); rejects with ENOENT when
   * gone. `large`: a range big enough to be worth reading around the page cache (see BlobStore).
   */
  openBlob(digest: string, options: { large: boolean }): Promise<BlobReader> {
    return this.#blobs.openBlob(digest, options);
  }

  /**
   * A blob's bytes by digest (for in-process readers such as the scanner); throws NotFound-style
   * OciError BLOB_UNKNOWN when the registry does not hold it.
   */
  getBlob(digest: string): Readable {
    const size = this.blobSizeAnywhere(digest);
    if (size === undefined)
      throw new OciError('BLOB_UNKNOWN', `Blob ${digest} is not in the registry`, { detail: { digest } });
    return this.#blobs.readBlob(digest, size > 0 ? { start: 0, end: size - 1 } : undefined);
  }

  /** Makes a blob of another repository visible in `repo` (cross-repository mount). */
  mountBlob(repo: string, from: string, digest: string): number | undefined {
    const size = this.statBlob(from, digest);
    if (size === undefined) return undefined;
    this.#link(repo, digest, size);
    return size;
  }

  /** Removes a blob from one repository (the bytes go when GC finds them unreferenced). */
  unlinkBlob(repo: string, digest: string): boolean {
    return this.#s.repoBlobUnlink.run(repo, digest).changes > 0;
  }

  // ---- uploads -----------------------------------------------------------------------------------

  async startUpload(repo: string): Promise<string> {
    const { project } = parseRepository(repo);
    const quota = this.projects.quotaOf(project);
    if (quota !== null && (this.#s.projectUsage.get(project)?.bytes ?? 0) >= quota) {
      throw new OciError('DENIED', `Storage quota of project "${project}" (${quota} bytes) is used up`, {
        detail: { project, quotaBytes: quota },
      });
    }
    const id = randomBytes(18).toString('base64url');
    const now = this.#now();
    // The record comes first, so GC never sees an upload file it does not know.
    this.#s.uploadInsert.run(id, repo, now, now);
    try {
      await this.#blobs.createUpload(id);
    } catch (err) {
      this.#s.uploadDelete.run(id);
      throw err;
    }
    return id;
  }

  #upload(repo: string, id: string): void {
    let row: { repo: string } | undefined;
    try {
      this.#blobs.uploadPath(id);
      row = this.#s.uploadGet.get(id);
    } catch {
      row = undefined;
    }
    if (!row || row.repo !== repo)
      throw new OciError('BLOB_UPLOAD_UNKNOWN', `Unknown upload ${JSON.stringify(id)}`);
  }

  async uploadSize(repo: string, id: string): Promise<number> {
    this.#upload(repo, id);
    const size = await this.#blobs.uploadSize(id);
    if (size === undefined) throw new OciError('BLOB_UPLOAD_UNKNOWN', `Unknown upload ${JSON.stringify(id)}`);
    return size;
  }

  /** Appends a chunk; `start` (from Content-Range) must equal the current size. Returns the new size. */
  async appendUpload(repo: string, id: string, body: Readable, start?: number): Promise<number> {
    this.#upload(repo, id);
    try {
      return await this.#blobs.appendUpload(id, body, start);
    } finally {
      this.#s.uploadTouch.run(this.#now(), id);
    }
  }

  /** Verifies and stores the upload as blob `digest`, links it into `repo`; returns the size. */
  async completeUpload(repo: string, id: string, digest: string): Promise<number> {
    this.#upload(repo, id);
    this.#hold(digest);
    try {
      let size: number;
      try {
        size = await this.#blobs.completeUpload(id, digest);
      } catch (err) {
        this.#s.uploadDelete.run(id);
        throw err;
      }
      this.#s.db.transaction(() => {
        this.#s.uploadDelete.run(id);
        this.#s.blobInsert.run(digest, size, this.#now());
      })();
      this.#link(repo, digest, size);
      return size;
    } finally {
      this.#release(digest);
    }
  }

  async cancelUpload(repo: string, id: string): Promise<void> {
    this.#upload(repo, id);
    this.#s.uploadDelete.run(id);
    await this.#blobs.deleteUpload(id);
  }

  /** Stores a blob from a stream or buffer in one go (for in-process callers such as the image builder). */
  async putBlob(
    repo: string,
    data: Readable | Uint8Array,
    digest?: string,
  ): Promise<{ digest: string; size: number }> {
    parseRepository(repo);
    let expected = digest;
    if (expected === undefined) {
      if (!(data instanceof Uint8Array))
        throw new OciError('DIGEST_INVALID', 'putBlob of a stream needs its digest');
      expected = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    }
    const existing = this.blobSizeAnywhere(expected);
    if (existing !== undefined && (await this.#blobs.blobSize(expected)) === existing) {
      this.#link(repo, expected, existing);
      return { digest: expected, size: existing };
    }
    const id = await this.startUpload(repo);
    const { Readable: ReadableCtor } = await import('node:stream');
    const source = data instanceof Uint8Array ? ReadableCtor.from([Buffer.from(data)]) : data;
    await this.appendUpload(repo, id, source, 0);
    const size = await this.completeUpload(repo, id, expected);
    return { digest: expected, size };
  }

  // ---- manifests ---------------------------------------------------------------------------------

  /** Resolves a tag or digest to the manifest stored in `repo`. */
  statManifest(repo: string, reference: string): ManifestInfo | undefined {
    const ref = parseReference(reference);
    const row =
      ref.kind === 'tag'
        ? this.#s.manifestByTag.get(repo, ref.tag)
        : this.#s.manifestGet.get(repo, ref.digest);
    return row ? toInfo(row) : undefined;
  }

  async #manifestBytes(digest: string): Promise<Buffer> {
    const cached = this.#manifestCache.get(digest);
    if (cached) return cached;
    return this.#loadManifest(digest);
  }

  async #loadManifest(digest: string): Promise<Buffer> {
    const body = await this.#blobs.readSmallBlob(digest);
    this.#manifestCache.set(digest, body);
    this.#manifestCacheBytes += body.length;
    while (this.#manifestCacheBytes > MANIFEST_CACHE_BYTES) {
      const oldest = this.#manifestCache.keys().next().value as string;
      this.#manifestCacheBytes -= this.#manifestCache.get(oldest)!.length;
      this.#manifestCache.delete(oldest);
    }
    return body;
  }

  /** The bytes of a manifest found with {@link statManifest} (served from memory when cached). */
  manifestBody(info: ManifestInfo): Promise<Buffer> {
    return this.#manifestBytes(info.digest);
  }

  /** The manifest `reference` (tag or digest) of `repo` with its bytes, or undefined. */
  async getManifest(repo: string, reference: string): Promise<(ManifestInfo & { body: Buffer }) | undefined> {
    const info = this.statManifest(repo, reference);
    if (!info) return undefined;
    return { ...info, body: await this.#manifestBytes(info.digest) };
  }

  /** The digest a tag points at, or undefined. */
  resolveTag(repo: string, tag: string): string | undefined {
    return this.#s.tagGet.get(repo, tag)?.digest;
  }

  /**
   * Stores a manifest under `reference` (a tag, or its own digest). Every blob and child manifest it
   * references must already be in `repo`. Returns its digest.
   */
  async putManifest(
    repo: string,
    reference: string,
    body: Buffer,
    contentType?: string,
  ): Promise<{ digest: string; subject: string | undefined; mediaType: string }> {
    const { project } = parseRepository(repo);
    const ref = parseReference(reference);
    const parsed = parseManifest(body, contentType);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (ref.kind === 'digest' && ref.digest !== digest) {
      if (
        !ref.digest.startsWith('sha512:') ||
        ref.digest !== `sha512:${createHash('sha512').update(body).digest('hex')}`
      )
        throw new OciError('DIGEST_INVALID', `Manifest digest is ${digest}, not ${ref.digest}`, {
          detail: { expected: ref.digest, actual: digest },
        });
    }
    const storedDigest = ref.kind === 'digest' ? ref.digest : digest;
    if (ref.kind === 'tag')
      this.projects.checkTagMutable(project, repo, ref.tag, this.resolveTag(repo, ref.tag), storedDigest);
    this.#checkReferences(repo, parsed.blobs, parsed.manifests);

    this.#hold(storedDigest);
    try {
      if (
        this.blobSizeAnywhere(storedDigest) === undefined ||
        (await this.#blobs.blobSize(storedDigest)) === undefined
      ) {
        await this.#blobs.writeSmallBlob(randomBytes(18).toString('base64url'), body, storedDigest);
      }
      const now = this.#now();
      this.#s.db.transaction(() => {
        // Re-check inside the transaction: GC may have run while the bytes were written.
        this.#checkReferences(repo, parsed.blobs, parsed.manifests);
        if (ref.kind === 'tag')
          this.projects.checkTagMutable(project, repo, ref.tag, this.resolveTag(repo, ref.tag), storedDigest);
        this.#s.blobInsert.run(storedDigest, body.length, now);
        this.#checkQuota(repo, storedDigest, body.length);
        this.#ensureRepository(repo);
        this.#s.repoBlobLink.run(repo, storedDigest, now);
        this.#s.manifestInsert.run({
          repo,
          digest: storedDigest,
          media_type: parsed.mediaType,
          size: body.length,
          artifact_type: parsed.artifactType ?? null,
          subject: parsed.subject?.digest ?? null,
          annotations: parsed.annotations ? JSON.stringify(parsed.annotations) : null,
          created_at: now,
        });
        for (const d of [...parsed.blobs, ...parsed.manifests]) this.#s.refInsert.run(storedDigest, d.digest);
        if (ref.kind === 'tag') this.#s.tagPut.run(repo, ref.tag, storedDigest, now);
      })();
    } finally {
      this.#release(storedDigest);
    }
    this.#manifestCache.set(storedDigest, body);
    this.#manifestCacheBytes += body.length;
    this.#events.emit('registry.push', {
      repository: repo,
      tag: ref.kind === 'tag' ? ref.tag : null,
      digest: storedDigest,
      mediaType: parsed.mediaType,
    });
    return { digest: storedDigest, subject: parsed.subject?.digest, mediaType: parsed.mediaType };
  }

  #checkReferences(repo: string, blobs: Descriptor[], manifests: Descriptor[]): void {
    for (const d of blobs) {
      if (isForeignLayer(d)) continue;
      const size = this.statBlob(repo, d.digest);
      if (size === undefined) {
        throw new OciError(
          'MANIFEST_BLOB_UNKNOWN',
          `Blob ${d.digest} is not in repository ${repo}; push it first`,
          {
            detail: { digest: d.digest },
          },
        );
      }
      if (size !== d.size) {
        throw new OciError(
          'MANIFEST_INVALID',
          `Blob ${d.digest} has ${size} bytes but the manifest says ${d.size}`,
          {
            detail: { digest: d.digest, size, declared: d.size },
          },
        );
      }
    }
    for (const d of manifests) {
      if (!this.#s.manifestGet.get(repo, d.digest)) {
        throw new OciError(
          'MANIFEST_BLOB_UNKNOWN',
          `Manifest ${d.digest} is not in repository ${repo}; push it first`,
          {
            detail: { digest: d.digest },
          },
        );
      }
    }
  }

  /**
   * Deletes a tag (the manifest stays) or, for a digest, the manifest with every tag pointing at it.
   * Returns false when there was nothing to delete.
   */
  deleteManifest(repo: string, reference: string): boolean {
    const { project } = parseRepository(repo);
    const ref = parseReference(reference);
    const done = this.#s.db.transaction(() => {
      if (ref.kind === 'tag') {
        if (!this.resolveTag(repo, ref.tag)) return false;
        this.projects.checkTagDeletable(project, repo, ref.tag);
        this.#s.tagDelete.run(repo, ref.tag);
        return true;
      }
      if (!this.#s.manifestGet.get(repo, ref.digest)) return false;
      for (const { tag } of this.#s.tagsOfDigest.all(repo, ref.digest))
        this.projects.checkTagDeletable(project, repo, tag);
      this.#s.tagsDeleteDigest.run(repo, ref.digest);
      this.#s.manifestDelete.run(repo, ref.digest);
      this.#s.repoBlobUnlink.run(repo, ref.digest);
      return true;
    })();
    if (done) this.#events.emit('registry.delete', { repository: repo, reference });
    return done;
  }

  /** Tags of `repo` in lexical order, after `last`, at most `n`; undefined when the repository is unknown. */
  listTags(repo: string, options: { n?: number; last?: string } = {}): string[] | undefined {
    if (!this.#s.repoExists.get(repo)) return undefined;
    return this.#s.tagList.all(repo, options.last ?? '', options.n ?? -1).map((r) => r.tag);
  }

  /** Tags with their digests, media types and sizes (for the REST API and UI). */
  listTagDetails(
    repo: string,
  ): { tag: string; digest: string; mediaType: string; size: number; pushedAt: string }[] {
    return this.#s.tagListDetailed.all(repo).map((r) => ({
      tag: r.tag,
      digest: r.digest,
      mediaType: r.media_type,
      size: r.size,
      pushedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  repositoryExists(repo: string): boolean {
    return this.#s.repoExists.get(repo) !== undefined;
  }

  /** Repository names in order after `last` (at most `n`), filtered by `visible`. */
  listRepositories(
    options: { n?: number; last?: string; visible?: (repo: string) => boolean } = {},
  ): string[] {
    const out: string[] = [];
    let last = options.last ?? '';
    const want = options.n ?? Number.POSITIVE_INFINITY;
    while (out.length < want) {
      const page = this.#s.repoList.all(last, 500);
      if (page.length === 0) break;
      for (const { name } of page) {
        if (!options.visible || options.visible(name)) out.push(name);
        if (out.length >= want) break;
      }
      last = page[page.length - 1]!.name;
    }
    return out;
  }

  /** Repositories of one project with their tag counts. */
  listProjectRepositories(
    project: string,
  ): { name: string; tags: number; manifests: number; createdAt: string }[] {
    return this.#s.repoListByProject.all(project).map((r) => ({
      name: r.name,
      tags: this.#s.tagListDetailed.all(r.name).length,
      manifests: this.#s.manifestCountByRepo.get(r.name)?.n ?? 0,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** Manifests in `repo` whose `subject` is `digest`, as an OCI index body. */
  referrers(
    repo: string,
    digest: string,
    artifactType?: string,
  ): { index: Record<string, unknown>; filtered: boolean } {
    const rows = this.#s.manifestReferrers.all(repo, digest);
    const manifests = rows
      .filter((r) => artifactType === undefined || r.artifact_type === artifactType)
      .map((r) => ({
        mediaType: r.media_type,
        digest: r.digest,
        size: r.size,
        ...(r.artifact_type ? { artifactType: r.artifact_type } : {}),
        ...(r.annotations ? { annotations: JSON.parse(r.annotations) as Record<string, string> } : {}),
      }));
    return {
      index: { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests },
      filtered: artifactType !== undefined,
    };
  }

  /** True when the stored manifest is an index. */
  isIndex(info: ManifestInfo): boolean {
    return isIndexMediaType(info.mediaType);
  }

  // ---- garbage collection ------------------------------------------------------------------------

  /**
   * Mark and sweep: deletes blobs no manifest references, except those written or linked within the
   * grace period and those being stored right now; deletes expired uploads and stray files. Safe while
   * pushes run: each deletion re-checks its blob inside one synchronous transaction.
   */
  gc(options: { dryRun?: boolean; deleteUntagged?: boolean } = {}): Promise<GcResult> {
    if (this.#gcRunning) return this.#gcRunning;
    this.#gcRunning = this.#gc(options).finally(() => {
      this.#gcRunning = undefined;
    });
    return this.#gcRunning;
  }

  async #gc(options: { dryRun?: boolean; deleteUntagged?: boolean }): Promise<GcResult> {
    const dryRun = options.dryRun === true;
    const result: GcResult = {
      dryRun,
      deletedBlobs: [],
      freedBytes: 0,
      deletedManifests: [],
      removedUploads: 0,
      keptRecent: 0,
    };
    const cutoff = this.#now() - this.#graceMs;
    if (options.deleteUntagged) {
      for (const m of this.#s.untaggedManifests.all(cutoff)) {
        result.deletedManifests.push({ repository: m.repo, digest: m.digest });
        if (!dryRun) this.deleteManifest(m.repo, m.digest);
      }
    }
    if (!dryRun) this.#s.orphanRefs.run();
    const live = new Set(this.#s.liveDigests.all().map((r) => r.digest));
    for (const blob of this.#s.blobAll.all()) {
      if (live.has(blob.digest)) continue;
      const deleted = this.#s.db.transaction(() => {
        // Re-check everything in one synchronous step: nothing can interleave.
        if (this.#inflight.has(blob.digest)) return false;
        const row = this.#s.blobGet.get(blob.digest);
        if (!row) return false;
        if (row.created_at > cutoff || this.#s.blobRecentlyLinked.get(blob.digest, cutoff)) {
          result.keptRecent++;
          return false;
        }
        if (this.#s.manifestAnywhere.get(blob.digest)) return false;
        if (this.#s.blobReferenced.get(blob.digest)) return false;
        if (dryRun) return true;
        this.#s.repoBlobUnlinkAll.run(blob.digest);
        this.#s.blobDelete.run(blob.digest);
        return true;
      })();
      if (!deleted) continue;
      result.deletedBlobs.push(blob.digest);
      result.freedBytes += blob.size;
      if (!dryRun) {
        this.#manifestCache.delete(blob.digest);
        this.#deleteFileUnlessRevived(blob.digest);
      }
    }
    // Stray files: blob files with no row (a crash between rename and insert) and dead uploads.
    for await (const file of this.#blobs.listBlobFiles()) {
      if (file.mtimeMs > cutoff || this.#inflight.has(file.digest)) continue;
      if (this.#s.blobGet.get(file.digest)) continue;
      result.deletedBlobs.push(file.digest);
      result.freedBytes += file.size;
      if (!dryRun) this.#deleteFileUnlessRevived(file.digest);
    }
    result.removedUploads = await this.expireUploads(dryRun);
    if (result.deletedBlobs.length > 0 || result.removedUploads > 0)
      this.#logger.info(
        {
          blobs: result.deletedBlobs.length,
          bytes: result.freedBytes,
          uploads: result.removedUploads,
          dryRun,
        },
        'registry garbage collection',
      );
    return result;
  }

  /**
   * Deletes a blob file unless a push stored the same digest again meanwhile (its row is back or it
   * is in flight). Synchronous on purpose: no rename of a concurrent push can slip between check and unlink.
   */
  #deleteFileUnlessRevived(digest: string): void {
    if (this.#inflight.has(digest) || this.#s.blobGet.get(digest)) return;
    this.#blobs.deleteBlobFileSync(digest);
  }

  /** Deletes uploads idle for longer than the upload TTL, and upload files with no record. */
  async expireUploads(dryRun = false): Promise<number> {
    const cutoff = this.#now() - this.#uploadTtlMs;
    let removed = 0;
    for (const { id } of this.#s.uploadsExpired.all(cutoff)) {
      removed++;
      if (dryRun) continue;
      this.#s.uploadDelete.run(id);
      await this.#blobs.deleteUpload(id).catch(() => {});
    }
    // List files before reading the records: a file listed here already has its record.
    const files = await this.#blobs.listUploadFiles();
    const known = new Set(this.#s.uploadIds.all().map((r) => r.id));
    const strayCutoff = this.#now() - Math.max(this.#graceMs, STRAY_UPLOAD_MIN_AGE_MS);
    for (const f of files) {
      if (known.has(f.id) || this.#blobs.isActive(f.id) || f.mtimeMs > strayCutoff) continue;
      removed++;
      if (!dryRun) await this.#blobs.removeUploadFile(f.id);
    }
    return removed;
  }
}

export { MAX_MANIFEST_BYTES };
