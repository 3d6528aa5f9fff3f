// Build logs: ANSI colours, follow mode, search and download.
import { useEffect, useMemo, useRef, useState } from 'react';

const ANSI_COLORS = ['#6b7280', '#ef4444', '#22c55e', '#eab308', '#3b82f6', '#a855f7', '#06b6d4', '#e5e7eb'];

interface Span {
  text: string;
  color?: string;
  bold?: boolean;
}

/** Splits a line with SGR escape codes into styled spans (other escapes are dropped). */
export function parseAnsi(line: string): Span[] {
  const spans: Span[] = [];
  let color: string | undefined;
  let bold = false;
  const re = /\x1b\[([0-9;]*)m/g;
  let last = 0;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m.index > last) spans.push({ text: line.slice(last, m.index), ...(color ? { color } : {}), bold });
    for (const code of (m[1] || '0').split(';').map(Number)) {
      if (code === 0) {
        color = undefined;
        bold = false;
      } else if (code === 1) bold = true;
      else if (code >= 30 && code <= 37) color = ANSI_COLORS[code - 30];
      else if (code >= 90 && code <= 97) color = ANSI_COLORS[code - 90];
      else if (code === 39) color = undefined;
    }
    last = re.lastIndex;
  }
  if (last < line.length)
    spans.push({
      text: line.slice(last).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''),
      ...(color ? { color } : {}),
      bold,
    });
  return spans;
}

export function LogView({ lines, title, live }: { lines: string[]; title: string; live: boolean }) {
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const shown = useMemo(() => {
    const q = query.toLowerCase();
    return lines.map((l, i) => ({ l, i })).filter(({ l }) => !q || l.toLowerCase().includes(q));
  }, [lines, query]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  const download = () => {
    const blob = new Blob([lines.join('\n')], { type: 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${title.replace(/[^a-z0-9.-]+/gi, '_')}.log`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <div className="log-view">
      <div className="log-toolbar">
        <strong>{title}</strong>
        {live && <span className="badge tone-busy">live</span>}
        <input
          type="search"
          placeholder="Search log"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-label="search log"
        />
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
        </label>
        <button type="button" onClick={download}>
          Download
        </button>
      </div>
      <div className="log-lines" ref={box} data-testid="log-lines">
        {shown.map(({ l, i }) => (
          <div className="log-line" key={i}>
            <span className="log-no">{i + 1}</span>
            <span>
              {parseAnsi(l).map((s, j) => (
                <span key={j} style={{ color: s.color, fontWeight: s.bold ? 700 : undefined }}>
                  {s.text}
                </span>
              ))}
            </span>
          </div>
        ))}
        {shown.length === 0 && (
          <div className="muted">{lines.length ? 'No line matches.' : 'No output yet.'}</div>
        )}
      </div>
    </div>
  );
}
