// The Argo CD view: the application's resources as a left-to-right graph with health colours.
import { toneOf } from './badge.tsx';

export interface TreeNode {
  id: string;
  kind: string;
  name: string;
  namespace?: string;
  health?: string;
  status?: string;
  message?: string;
  children: TreeNode[];
}

interface Placed {
  node: TreeNode;
  x: number;
  y: number;
}

const W = 190;
const H = 46;
const GX = 60;
const GY = 14;

function layout(roots: TreeNode[]): {
  placed: Placed[];
  edges: [Placed, Placed][];
  width: number;
  height: number;
} {
  const placed: Placed[] = [];
  const edges: [Placed, Placed][] = [];
  const seen = new Set<string>();
  let nextRow = 0;
  // Leaves take consecutive rows; a parent sits centred on its children's rows.
  const visit = (n: TreeNode, depth: number): Placed => {
    seen.add(n.id);
    const kids = n.children.filter((c) => !seen.has(c.id)).map((c) => visit(c, depth + 1));
    const row = kids.length ? (kids[0]!.y + kids[kids.length - 1]!.y) / 2 / (H + GY) : nextRow++;
    const me: Placed = { node: n, x: depth * (W + GX), y: row * (H + GY) };
    placed.push(me);
    for (const k of kids) edges.push([me, k]);
    return me;
  };
  for (const r of roots) if (!seen.has(r.id)) visit(r, 0);
  const width = Math.max(...placed.map((p) => p.x + W), W) + 10;
  const height = Math.max(...placed.map((p) => p.y + H), H) + 10;
  return { placed, edges, width, height };
}

export function ResourceTree({ roots, onSelect }: { roots: TreeNode[]; onSelect?: (n: TreeNode) => void }) {
  if (roots.length === 0) return <p className="muted">No resources yet.</p>;
  const { placed, edges, width, height } = layout(roots);
  return (
    <div className="tree-scroll">
      <svg width={width} height={height} role="img" aria-label="resource tree" className="resource-tree">
        {edges.map(([a, b], i) => (
          <path
            key={i}
            d={`M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`}
            className="tree-edge"
          />
        ))}
        {placed.map(({ node, x, y }) => (
          <g
            key={node.id}
            transform={`translate(${x},${y})`}
            className={`tree-node tone-${toneOf(node.health ?? 'unknown')}`}
            onClick={() => onSelect?.(node)}
            data-kind={node.kind}
            data-health={node.health}
          >
            <title>{`${node.kind}/${node.name}${node.message ? `: ${node.message}` : ''}`}</title>
            <rect width={W} height={H} rx={8} />
            <text x={12} y={18} className="tree-kind">
              {node.kind}
            </text>
            <text x={12} y={36} className="tree-name">
              {node.name.length > 24 ? `${node.name.slice(0, 23)}…` : node.name}
            </text>
            <circle cx={W - 14} cy={14} r={5} className="tree-dot" />
          </g>
        ))}
      </svg>
    </div>
  );
}
