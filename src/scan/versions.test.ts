import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareApkVersions } from './version-apk.ts';
import { compareDpkgVersions } from './version-dpkg.ts';
import { compareMavenVersions, comparePackagistVersions } from './version-other.ts';
import { compareSemver } from './version-semver.ts';
import { compareVersions } from './versions.ts';

/** Each list is in ascending order; every pair is checked both ways. */
function assertAscending(cmp: (a: string, b: string) => number, list: string[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = 0; j < list.length; j++) {
      const got = Math.sign(cmp(list[i]!, list[j]!));
      assert.equal(got, Math.sign(i - j), `${list[i]} vs ${list[j]}`);
    }
  }
}

test('compareDpkgVersions() follows Debian policy §5.6.12', () => {
  // "~" sorts before everything, even the end of the part: 1.0~rc1 < 1.0.
  assertAscending(
    compareDpkgVersions,
    ['~~', '~~a', '~', '', 'a'].map((s) => `1.0${s}`),
  );
  assertAscending(compareDpkgVersions, ['1.0~rc1', '1.0', '1.0-1', '1.0-1.1', '1.0+dfsg-1', '1.0.1', '1.1']);
  // Epochs beat everything: 1:0.1 > 2.0.
  assert.ok(compareDpkgVersions('1:0.1', '2.0') > 0);
  assert.equal(compareDpkgVersions('0:1.0', '1.0'), 0);
  assert.ok(compareDpkgVersions('3.0.11-1~deb12u1', '3.0.11-1~deb12u2') < 0);
  assert.ok(compareDpkgVersions('3.0.11-1~deb12u2', '3.0.11-1') < 0);
  assert.ok(compareDpkgVersions('1:1.2.13.dfsg-1', '1:1.2.11.dfsg-2+deb11u2') > 0);
  // Letters sort before non-letters; digit runs numerically.
  assert.ok(compareDpkgVersions('1.0a', '1.0+') < 0);
  assert.ok(compareDpkgVersions('1.10', '1.9') > 0);
  assert.equal(compareDpkgVersions('1.001', '1.1'), 0);
});

test('compareApkVersions() follows apk-tools rules', () => {
  assert.ok(compareApkVersions('1.2.3_rc1', '1.2.3') < 0);
  assert.ok(compareApkVersions('1.2.3-r1', '1.2.3-r2') < 0);
  assertAscending(compareApkVersions, [
    '1.2.3_alpha',
    '1.2.3_beta2',
    '1.2.3_pre1',
    '1.2.3_rc1',
    '1.2.3',
    '1.2.3-r1',
    '1.2.3_p1',
    '1.2.3a',
    '1.2.4',
    '1.10',
  ]);
  assert.ok(compareApkVersions('1.36.1-r15', '1.36.1-r16') < 0);
  assert.equal(compareApkVersions('2.0-r0', '2.0'), 0);
});

test('compareSemver() follows semver.org §11', () => {
  assertAscending(compareSemver, [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '2.0.0',
    '2.1.0',
    '2.1.1',
  ]);
  assert.equal(compareSemver('1.0.0+build.1', '1.0.0+build.2'), 0);
  assert.equal(compareSemver('v1.2.3', '1.2.3'), 0);
  assert.ok(compareSemver('4.17.20', '4.17.21') < 0);
});

test('compareVersions() orders Go pseudo-versions, Maven and Packagist', () => {
  assert.ok(compareVersions('Go', 'v0.0.0-20210101000000-abcdef123456', 'v0.1.0') < 0);
  assert.ok(compareVersions('Go', 'v1.2.3', 'v1.10.0') < 0);
  assertAscending(compareMavenVersions, [
    '2.0-alpha1',
    '2.0-beta9',
    '2.0-rc1',
    '2.0-SNAPSHOT',
    '2.0',
    '2.0-sp1',
    '2.0.1',
    '2.15.0',
  ]);
  assert.equal(compareMavenVersions('1.0', '1.0.0-ga'), 0);
  assertAscending(comparePackagistVersions, [
    '7.0.0-dev',
    '7.0.0-alpha1',
    '7.0.0-beta',
    '7.0.0-RC1',
    '7.0.0',
    '7.0.0-p1',
    '7.4.3',
  ]);
  assert.equal(comparePackagistVersions('v7.4.3', '7.4.3.0'), 0);
});
