// Side-by-side diff of desired and live YAML (line-based LCS).
export function diffLines(
  a: string[],
  b: string[],
): { left?: string; right?: string; kind: 'same' | 'del' | 'add' | 'chg' }[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: { left?: string; right?: string; kind: 'same' | 'del' | 'add' | 'chg' }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ left: a[i]!, right: b[j]!, kind: 'same' });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push({ right: b[j]!, kind: 'add' });
      j++;
    } else {
      out.push({ left: a[i]!, kind: 'del' });
      i++;
    }
  }
  return out;
}

export function YamlDiff({ live, desired, title }: { live: string; desired: string; title: string }) {
  const rows = diffLines(live.split('\n'), desired.split('\n'));
  const changed = rows.some((r) => r.kind !== 'same');
  return (
    <div className="yaml-diff">
      <div className="diff-head">
        <strong>{title}</strong>{' '}
        {changed ? (
          <span className="badge tone-warn">differs</span>
        ) : (
          <span className="badge tone-ok">same</span>
        )}
      </div>
      <table>
        <thead>
          <tr>
            <th>live</th>
            <th>desired (git)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className={`diff-${r.kind}`}>
              <td>
                <pre>{r.left ?? ''}</pre>
              </td>
              <td>
                <pre>{r.right ?? ''}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
