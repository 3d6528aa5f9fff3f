// gitops' view of kube/'s normalised desired-vs-live diff: the app's ignoreDifferences passed through, and a
// one-line-per-field summary for `app diff`. Pure; every comparison rule lives in kube/.
import { diff, type FieldChange } from '../kube/index.ts';
import type { IgnoreDifference } from './app-spec.ts';
import type { KubeObject } from './seams.ts';

export type { FieldChange } from '../kube/index.ts';

export interface ObjectDiff {
  modified: boolean;
  changes: FieldChange[];
  /** Unified diff from live to desired (Secret values masked); `''` when in sync. */
  text: string;
}

/**
 * Compares a desired object with the live one using kube/'s normalisation (server defaults, quantities,
 * int-or-string, fields Slipway's field manager no longer sets). An absent live object is modified.
 */
export function diffObject(
  desired: KubeObject,
  live: KubeObject | undefined,
  ignoreDifferences: IgnoreDifference[] = [],
): ObjectDiff {
  const d = diff(desired, live, { ignoreDifferences });
  return { modified: d.status !== 'Synced', changes: d.changes, text: d.diff };
}

/** A short human description of a change list, one line per field. */
export function describeChanges(changes: FieldChange[]): string[] {
  const fmt = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));
  return changes.map((c) =>
    c.path ? `${c.path}: ${fmt(c.live)} → ${fmt(c.desired)}` : 'object is missing from the cluster',
  );
}
