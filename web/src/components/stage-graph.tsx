// The Blue Ocean view: stages as boxes in order, parallel branches stacked, status colours and durations.
import { Duration, toneOf } from './badge.tsx';

export interface StageNode {
  name: string;
  status: string;
  durationMs?: number | null;
  parallel?: StageNode[];
}

export function StageGraph({
  stages,
  selected,
  onSelect,
}: {
  stages: StageNode[];
  selected?: string;
  onSelect?: (name: string) => void;
}) {
  return (
    <div className="stage-graph" role="list" aria-label="stages">
      {stages.map((stage, i) => (
        <div className="stage-column" key={stage.name} role="listitem">
          {i > 0 && <div className="stage-edge" aria-hidden />}
          <div className="stage-stack">
            {(stage.parallel && stage.parallel.length > 0 ? stage.parallel : [stage]).map((s) => (
              <button
                type="button"
                key={s.name}
                className={`stage-box tone-${toneOf(s.status)}${selected === s.name ? ' selected' : ''}`}
                onClick={() => onSelect?.(s.name)}
                title={`${s.name}: ${s.status}`}
              >
                <span className={`dot tone-${toneOf(s.status)}${s.status === 'running' ? ' pulse' : ''}`} />
                <span className="stage-name">{s.name}</span>
                <Duration ms={s.durationMs} />
              </button>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
