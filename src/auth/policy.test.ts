import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ANONYMOUS,
  type Action,
  type Binding,
  can,
  type GlobalRole,
  type Resource,
  type Subject,
} from './index.ts';

function user(role: GlobalRole | null, bindings: Binding[] = [], kind: Subject['kind'] = 'user'): Subject {
  return { kind, name: `u-${role}`, role, bindings };
}

const admin = user('admin');
const maintainer = user('maintainer');
const developer = user('developer');
const viewer = user('viewer');
const alice = user('developer', [
  { scope: 'project', name: 'base', role: 'developer' },
  { scope: 'environment', name: 'dev', role: 'deployer' },
  { scope: 'environment', name: 'qa', role: 'deployer' },
]);
const bob = user('maintainer', [{ scope: 'environment', name: 'prod', role: 'deployer' }]);
const guest = user('viewer', [{ scope: 'project', name: 'base', role: 'guest' }]);
const projAdmin = user('viewer', [{ scope: 'project', name: 'base', role: 'admin' }]);
const approver = user('viewer', [{ scope: 'environment', name: 'prod', role: 'approver' }]);
const robot = user(null, [{ scope: 'project', name: 'base', role: 'developer' }], 'robot');

const SYS: Resource = { kind: 'system' };
const base: Resource = { kind: 'project', name: 'base' };
const pub: Resource = { kind: 'project', name: 'library', public: true };
const other: Resource = { kind: 'project', name: 'other' };
const dev: Resource = { kind: 'environment', name: 'dev' };
const prod: Resource = { kind: 'environment', name: 'prod', protected: true };

// [subject, action, resource, allowed]
const table: [string, Subject, Action, Resource, boolean][] = [
  ['admin manages users', admin, 'user.admin', SYS, true],
  ['admin syncs prod', admin, 'app.sync', prod, true],
  ['maintainer cannot manage users', maintainer, 'user.admin', SYS, false],
  ['maintainer creates projects', maintainer, 'project.create', SYS, true],
  ['developer cannot create projects', developer, 'project.create', SYS, false],
  ['developer creates repos', developer, 'repo.create', SYS, true],
  ['developer pushes git', developer, 'repo.push', SYS, true],
  ['viewer reads git', viewer, 'repo.read', SYS, true],
  ['viewer cannot push git', viewer, 'repo.push', SYS, false],
  ['viewer cannot run pipelines', viewer, 'pipeline.run', SYS, false],
  ['developer runs pipelines', developer, 'pipeline.run', SYS, true],
  ['viewer sees pipelines', viewer, 'pipeline.view', SYS, true],
  ['anonymous sees nothing', ANONYMOUS, 'pipeline.view', SYS, false],
  ['viewer cannot read audit', viewer, 'audit.view', SYS, false],
  ['admin reads audit', admin, 'audit.view', SYS, true],
  ['anonymous pulls public', ANONYMOUS, 'registry.pull', pub, true],
  ['anonymous cannot pull private', ANONYMOUS, 'registry.pull', base, false],
  ['anonymous cannot push public', ANONYMOUS, 'registry.push', pub, false],
  ['viewer pulls public', viewer, 'registry.pull', pub, true],
  ['viewer without membership cannot pull private', viewer, 'registry.pull', base, false],
  ['guest pulls', guest, 'registry.pull', base, true],
  ['guest cannot push', guest, 'registry.push', base, false],
  ['project developer pushes', alice, 'registry.push', base, true],
  ['project developer cannot delete', alice, 'registry.delete', base, false],
  ['project developer cannot push elsewhere', alice, 'registry.push', other, false],
  ['project admin administers project', projAdmin, 'project.admin', base, true],
  ['project admin deletes', projAdmin, 'registry.delete', base, true],
  ['maintainer pushes anywhere', maintainer, 'registry.push', other, true],
  ['maintainer is not project admin', maintainer, 'project.admin', other, false],
  ['robot pushes its project', robot, 'registry.push', base, true],
  ['robot cannot push elsewhere', robot, 'registry.push', other, false],
  ['robot has no system rights', robot, 'repo.read', SYS, false],
  ['alice syncs dev', alice, 'app.sync', dev, true],
  ['alice cannot sync prod', alice, 'app.sync', prod, false],
  ['alice cannot roll back prod', alice, 'app.rollback', prod, false],
  ['alice views prod', alice, 'app.view', prod, true],
  ['bob syncs prod', bob, 'app.sync', prod, true],
  ['bob promotes into prod', bob, 'env.promote', prod, true],
  ['maintainer syncs unprotected env', maintainer, 'app.sync', dev, true],
  ['maintainer without binding cannot sync prod', maintainer, 'app.sync', prod, false],
  ['developer without binding cannot sync dev', developer, 'app.sync', dev, false],
  ['approver approves prod', approver, 'env.approve', prod, true],
  ['approver cannot sync prod', approver, 'app.sync', prod, false],
  ['viewer views apps', viewer, 'app.view', dev, true],
  ['anonymous cannot view apps', ANONYMOUS, 'app.view', dev, false],
  ['viewer cannot sync', viewer, 'app.sync', dev, false],
];

for (const [name, subject, action, resource, expected] of table) {
  test(`can() ${name}`, () => {
    assert.equal(can(subject, action, resource), expected);
  });
}
