// The registry's tables in the shared SQLite store: projects, robots, repositories, blobs and their
// per-repository links, manifests, manifest references and tags. Statements are prepared once.
import type { Store } from '../store/index.ts';

export const REGISTRY_MIGRATIONS = {
  module: 'registry',
  steps: [
    `CREATE TABLE registry_projects (
       name TEXT PRIMARY KEY, public INTEGER NOT NULL DEFAULT 0, quota_bytes INTEGER,
       immutable_tags TEXT NOT NULL DEFAULT '[]', prevent_vulnerable TEXT,
       created_at TEXT NOT NULL, created_by TEXT NOT NULL);
     CREATE TABLE registry_robots (
       name TEXT PRIMARY KEY, project TEXT NOT NULL REFERENCES registry_projects(name) ON DELETE CASCADE,
       short_name TEXT NOT NULL, permission TEXT NOT NULL, secret_hash TEXT NOT NULL,
       created_at TEXT NOT NULL, created_by TEXT NOT NULL, expires_at TEXT);
     CREATE TABLE registry_repositories (
       name TEXT PRIMARY KEY, project TEXT NOT NULL, created_at INTEGER NOT NULL);
     CREATE INDEX registry_repositories_project ON registry_repositories(project);
     CREATE TABLE registry_blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, created_at INTEGER NOT NULL);
     CREATE TABLE registry_repo_blobs (
       repo TEXT NOT NULL, digest TEXT NOT NULL, linked_at INTEGER NOT NULL,
       PRIMARY KEY (repo, digest)) WITHOUT ROWID;
     CREATE INDEX registry_repo_blobs_digest ON registry_repo_blobs(digest, linked_at);
     CREATE TABLE registry_manifests (
       repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
       artifact_type TEXT, subject TEXT, annotations TEXT, created_at INTEGER NOT NULL,
       PRIMARY KEY (repo, digest)) WITHOUT ROWID;
     CREATE INDEX registry_manifests_digest ON registry_manifests(digest);
     CREATE INDEX registry_manifests_subject ON registry_manifests(repo, subject) WHERE subject IS NOT NULL;
     CREATE TABLE registry_manifest_refs (
       digest TEXT NOT NULL, child TEXT NOT NULL, PRIMARY KEY (digest, child)) WITHOUT ROWID;
     CREATE INDEX registry_manifest_refs_child ON registry_manifest_refs(child);
     CREATE TABLE registry_tags (
       repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, updated_at INTEGER NOT NULL,
       PRIMARY KEY (repo, tag)) WITHOUT ROWID;
     CREATE INDEX registry_tags_digest ON registry_tags(repo, digest);
     CREATE TABLE registry_uploads (
       id TEXT PRIMARY KEY, repo TEXT NOT NULL, started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);`,
  ],
};

export interface ProjectRow {
  name: string;
  public: number;
  quota_bytes: number | null;
  immutable_tags: string;
  prevent_vulnerable: string | null;
  created_at: string;
  created_by: string;
}

export interface RobotRow {
  name: string;
  project: string;
  short_name: string;
  permission: string;
  secret_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
}

export interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
}

/** Prepared statements over the registry tables. */
export function prepareStatements(store: Store) {
  store.migrate(REGISTRY_MIGRATIONS);
  const db = store.db;
  return {
    db,
    projectGet: db.prepare<[string], ProjectRow>('SELECT * FROM registry_projects WHERE name = ?'),
    projectList: db.prepare<[], ProjectRow>('SELECT * FROM registry_projects ORDER BY name'),
    projectInsert: db.prepare(
      `INSERT INTO registry_projects (name, public, quota_bytes, immutable_tags, prevent_vulnerable, created_at, created_by)
       VALUES (@name, @public, @quota_bytes, @immutable_tags, @prevent_vulnerable, @created_at, @created_by)`,
    ),
    projectUpdate: db.prepare(
      `UPDATE registry_projects SET public = @public, quota_bytes = @quota_bytes, immutable_tags = @immutable_tags,
       prevent_vulnerable = @prevent_vulnerable WHERE name = @name`,
    ),
    projectDelete: db.prepare<[string]>('DELETE FROM registry_projects WHERE name = ?'),
    projectUsage: db.prepare<[string], { bytes: number }>(
      `SELECT COALESCE(SUM(b.size), 0) AS bytes FROM registry_blobs b WHERE b.digest IN (
         SELECT rb.digest FROM registry_repo_blobs rb JOIN registry_repositories r ON r.name = rb.repo
         WHERE r.project = ?)`,
    ),
    projectHasBlob: db.prepare<[string, string], { one: number }>(
      `SELECT 1 AS one FROM registry_repo_blobs rb JOIN registry_repositories r ON r.name = rb.repo
       WHERE r.project = ? AND rb.digest = ? LIMIT 1`,
    ),
    robotGet: db.prepare<[string], RobotRow>('SELECT * FROM registry_robots WHERE name = ?'),
    robotList: db.prepare<[string], RobotRow>(
      'SELECT * FROM registry_robots WHERE project = ? ORDER BY name',
    ),
    robotInsert: db.prepare(
      `INSERT INTO registry_robots (name, project, short_name, permission, secret_hash, created_at, created_by, expires_at)
       VALUES (@name, @project, @short_name, @permission, @secret_hash, @created_at, @created_by, @expires_at)`,
    ),
    robotDelete: db.prepare<[string]>('DELETE FROM registry_robots WHERE name = ?'),

    repoInsert: db.prepare<[string, string, number]>(
      'INSERT OR IGNORE INTO registry_repositories (name, project, created_at) VALUES (?, ?, ?)',
    ),
    repoExists: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM registry_repositories WHERE name = ?',
    ),
    repoList: db.prepare<[string, number], { name: string }>(
      'SELECT name FROM registry_repositories WHERE name > ? ORDER BY name LIMIT ?',
    ),
    repoListByProject: db.prepare<[string], { name: string; created_at: number }>(
      'SELECT name, created_at FROM registry_repositories WHERE project = ? ORDER BY name',
    ),
    repoCountByProject: db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM registry_repositories WHERE project = ?',
    ),
    repoDelete: db.prepare<[string]>('DELETE FROM registry_repositories WHERE name = ?'),

    blobGet: db.prepare<[string], { size: number; created_at: number }>(
      'SELECT size, created_at FROM registry_blobs WHERE digest = ?',
    ),
    blobInsert: db.prepare<[string, number, number]>(
      'INSERT OR IGNORE INTO registry_blobs (digest, size, created_at) VALUES (?, ?, ?)',
    ),
    blobDelete: db.prepare<[string]>('DELETE FROM registry_blobs WHERE digest = ?'),
    blobAll: db.prepare<[], { digest: string; size: number; created_at: number }>(
      'SELECT digest, size, created_at FROM registry_blobs',
    ),
    repoBlobGet: db.prepare<[string, string], { size: number }>(
      `SELECT b.size FROM registry_repo_blobs rb JOIN registry_blobs b ON b.digest = rb.digest
       WHERE rb.repo = ? AND rb.digest = ?`,
    ),
    repoBlobLink: db.prepare<[string, string, number]>(
      `INSERT INTO registry_repo_blobs (repo, digest, linked_at) VALUES (?, ?, ?)
       ON CONFLICT (repo, digest) DO UPDATE SET linked_at = excluded.linked_at`,
    ),
    repoBlobUnlink: db.prepare<[string, string]>(
      'DELETE FROM registry_repo_blobs WHERE repo = ? AND digest = ?',
    ),
    repoBlobUnlinkAll: db.prepare<[string]>('DELETE FROM registry_repo_blobs WHERE digest = ?'),
    blobRecentlyLinked: db.prepare<[string, number], { one: number }>(
      'SELECT 1 AS one FROM registry_repo_blobs WHERE digest = ? AND linked_at > ? LIMIT 1',
    ),

    manifestGet: db.prepare<[string, string], ManifestRow>(
      `SELECT digest, media_type, size, artifact_type, subject, annotations FROM registry_manifests
       WHERE repo = ? AND digest = ?`,
    ),
    manifestByTag: db.prepare<[string, string], ManifestRow>(
      `SELECT m.digest, m.media_type, m.size, m.artifact_type, m.subject, m.annotations
       FROM registry_tags t JOIN registry_manifests m ON m.repo = t.repo AND m.digest = t.digest
       WHERE t.repo = ? AND t.tag = ?`,
    ),
    manifestInsert: db.prepare(
      `INSERT OR IGNORE INTO registry_manifests (repo, digest, media_type, size, artifact_type, subject, annotations, created_at)
       VALUES (@repo, @digest, @media_type, @size, @artifact_type, @subject, @annotations, @created_at)`,
    ),
    manifestDelete: db.prepare<[string, string]>(
      'DELETE FROM registry_manifests WHERE repo = ? AND digest = ?',
    ),
    manifestAnywhere: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM registry_manifests WHERE digest = ? LIMIT 1',
    ),
    manifestReferrers: db.prepare<[string, string], ManifestRow>(
      `SELECT digest, media_type, size, artifact_type, subject, annotations FROM registry_manifests
       WHERE repo = ? AND subject = ? ORDER BY created_at, digest`,
    ),
    manifestCountByRepo: db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM registry_manifests WHERE repo = ?',
    ),
    refInsert: db.prepare<[string, string]>(
      'INSERT OR IGNORE INTO registry_manifest_refs (digest, child) VALUES (?, ?)',
    ),
    refsOf: db.prepare<[string], { child: string }>(
      'SELECT child FROM registry_manifest_refs WHERE digest = ?',
    ),

    tagGet: db.prepare<[string, string], { digest: string }>(
      'SELECT digest FROM registry_tags WHERE repo = ? AND tag = ?',
    ),
    tagPut: db.prepare<[string, string, string, number]>(
      `INSERT INTO registry_tags (repo, tag, digest, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
    ),
    tagDelete: db.prepare<[string, string]>('DELETE FROM registry_tags WHERE repo = ? AND tag = ?'),
    tagsOfDigest: db.prepare<[string, string], { tag: string }>(
      'SELECT tag FROM registry_tags WHERE repo = ? AND digest = ? ORDER BY tag',
    ),
    tagsDeleteDigest: db.prepare<[string, string]>('DELETE FROM registry_tags WHERE repo = ? AND digest = ?'),
    tagList: db.prepare<[string, string, number], { tag: string }>(
      'SELECT tag FROM registry_tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?',
    ),
    tagListDetailed: db.prepare<
      [string],
      { tag: string; digest: string; updated_at: number; media_type: string; size: number }
    >(
      `SELECT t.tag, t.digest, t.updated_at, m.media_type, m.size FROM registry_tags t
       JOIN registry_manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = ? ORDER BY t.tag`,
    ),

    uploadInsert: db.prepare<[string, string, number, number]>(
      'INSERT INTO registry_uploads (id, repo, started_at, updated_at) VALUES (?, ?, ?, ?)',
    ),
    uploadGet: db.prepare<[string], { repo: string; started_at: number; updated_at: number }>(
      'SELECT repo, started_at, updated_at FROM registry_uploads WHERE id = ?',
    ),
    uploadTouch: db.prepare<[number, string]>('UPDATE registry_uploads SET updated_at = ? WHERE id = ?'),
    uploadDelete: db.prepare<[string]>('DELETE FROM registry_uploads WHERE id = ?'),
    uploadsExpired: db.prepare<[number], { id: string }>(
      'SELECT id FROM registry_uploads WHERE updated_at < ?',
    ),
    uploadIds: db.prepare<[], { id: string }>('SELECT id FROM registry_uploads'),

    liveDigests: db.prepare<[], { digest: string }>(
      `SELECT digest FROM registry_manifests
       UNION SELECT r.child AS digest FROM registry_manifest_refs r
         WHERE r.digest IN (SELECT digest FROM registry_manifests)`,
    ),
    blobReferenced: db.prepare<[string], { one: number }>(
      `SELECT 1 AS one FROM registry_manifest_refs r JOIN registry_manifests m ON m.digest = r.digest
       WHERE r.child = ? LIMIT 1`,
    ),
    orphanRefs: db.prepare(
      'DELETE FROM registry_manifest_refs WHERE digest NOT IN (SELECT digest FROM registry_manifests)',
    ),
    untaggedManifests: db.prepare<[number], { repo: string; digest: string }>(
      `SELECT m.repo, m.digest FROM registry_manifests m
       WHERE m.subject IS NULL AND m.created_at < ?
         AND NOT EXISTS (SELECT 1 FROM registry_tags t WHERE t.repo = m.repo AND t.digest = m.digest)
         AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs r JOIN registry_manifests p
                         ON p.digest = r.digest AND p.repo = m.repo WHERE r.child = m.digest)`,
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
