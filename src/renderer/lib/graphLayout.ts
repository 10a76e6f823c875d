/**
 * Layered layout of a model graph for the architecture view: nodes in rows from top to
 * bottom (the data flows down), branches side by side, merges below all of their inputs.
 *
 * The steps are those of a Sugiyama-style drawing (Sugiyama, Tagawa & Toda 1981), kept small:
 * 1. layering by longest path from the input (a node's row is one more than the deepest of its
 *    inputs), so every edge points down;
 * 2. an edge that spans several rows gets a thin waypoint in each row it crosses, so it is drawn
 *    beside the boxes instead of through them (ResNet's identity shortcut is such an edge);
 * 3. row by row, each box wants the mean x of the boxes it reads (a waypoint: the x of the
 *    item above, so a long edge runs straight); items wanting the same place are spread centred on it — boxes first, waypoints to
 *    their right — and then pushed apart left to right so that nothing overlaps.
 * Deterministic: ties are broken by the nodes' order in the spec. Pure, DOM-free.
 */

/** The layout's view of a node: a name and the names it reads (INPUT_NAME or earlier nodes). */
export interface LayoutNode {
  name: string;
  inputs: readonly string[];
}

export interface LayoutBox {
  name: string;
  /** Index in the nodes given; -1 for the graph input. */
  index: number;
  /** Row (0 = the input), the longest path from the input in edges. */
  row: number;
  /** Top-left corner and size, in px. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
  /** Polyline from the bottom of `from` to the top of `to`, through the waypoints; y grows along it. */
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  boxes: LayoutBox[];
  edges: LayoutEdge[];
  /** Size of the drawing, in px (margins included). */
  width: number;
  height: number;
  rows: number;
}

export interface LayoutOptions {
  boxWidth?: number;
  boxHeight?: number;
  /** Horizontal gap between boxes, px. */
  gapX?: number;
  /** Vertical gap between rows, px. */
  gapY?: number;
  /** Margin around the drawing, px. */
  margin?: number;
  /** Name of the graph input drawn as the first box (default 'input'); null draws none. */
  inputName?: string | null;
}

interface Item {
  /** Box name, or null for a waypoint of a long edge. */
  name: string | null;
  /** Spec order of the box (input -1); a waypoint takes its edge's target's. */
  order: number;
  /** Width in column units: a box 1, a waypoint less. */
  span: number;
  /** Items above that it hangs from: a box's input boxes (the source of each input edge), a waypoint's item above. */
  preds: Item[];
  x: number;
}

const WAYPOINT_SPAN = 0.3;

/**
 * Lay out a DAG given in an order where each node's inputs come before it (a ModelSpec's
 * `nodes`, or toGraph's). Inputs naming no earlier node are ignored, so a half-edited graph
 * still draws. Boxes of one size; x, y in px.
 * @returns boxes (the input first when `inputName` is not null), edges (one per input of each
 *   node, in node order), and the drawing's size.
 */
export function layoutGraph(nodes: readonly LayoutNode[], opts: LayoutOptions = {}): GraphLayout {
  const W = opts.boxWidth ?? 200;
  const H = opts.boxHeight ?? 64;
  const gapX = opts.gapX ?? 28;
  const gapY = opts.gapY ?? 30;
  const margin = opts.margin ?? 16;
  const inputName = opts.inputName === undefined ? 'input' : opts.inputName;

  // 1. Rows by longest path.
  const row = new Map<string, number>();
  const order = new Map<string, number>();
  if (inputName !== null) {
    row.set(inputName, 0);
    order.set(inputName, -1);
  }
  const known = (n: LayoutNode): string[] => n.inputs.filter((i) => row.has(i));
  nodes.forEach((n, i) => {
    if (row.has(n.name)) return; // a repeated name: the first one is drawn
    const ins = known(n);
    row.set(n.name, ins.length === 0 ? (inputName === null ? 0 : 1) : Math.max(...ins.map((i) => row.get(i) as number)) + 1);
    order.set(n.name, i);
  });
  const drawn = nodes.filter((n, i) => order.get(n.name) === i);
  const rowCount = Math.max(0, ...row.values()) + 1;

  // 2. Items per row, with waypoints for edges that skip rows.
  const rows: Item[][] = Array.from({ length: rowCount }, () => []);
  const boxItem = new Map<string, Item>();
  const addBox = (name: string): Item => {
    const it: Item = { name, order: order.get(name) as number, span: 1, preds: [], x: 0 };
    rows[row.get(name) as number].push(it);
    boxItem.set(name, it);
    return it;
  };
  if (inputName !== null) addBox(inputName);
  /** For each edge (in node order, input order), its items from the source's row + 1 to the target's row − 1. */
  const edgeWaypoints: { from: string; to: string; via: Item[] }[] = [];
  for (const n of drawn) {
    const it = addBox(n.name);
    for (const from of known(n)) {
      const via: Item[] = [];
      let prev = boxItem.get(from) as Item;
      for (let r = (row.get(from) as number) + 1; r < (row.get(n.name) as number); r++) {
        const wp: Item = { name: null, order: it.order, span: WAYPOINT_SPAN, preds: [prev], x: 0 };
        rows[r].push(wp);
        via.push(wp);
        prev = wp;
      }
      it.preds.push(boxItem.get(from) as Item);
      edgeWaypoints.push({ from, to: n.name, via });
    }
  }

  // 3. x per row, top to bottom.
  for (const items of rows) {
    for (const it of items) it.x = it.preds.length === 0 ? 0 : it.preds.reduce((a, p) => a + p.x, 0) / it.preds.length;
    items.sort((a, b) => a.x - b.x || (a.name === null ? 1 : 0) - (b.name === null ? 1 : 0) || a.order - b.order);
    // Spread the items that want one place: boxes centred on it, waypoints to their right.
    for (let i = 0; i < items.length; ) {
      let j = i;
      while (j < items.length && Math.abs(items[j].x - items[i].x) < 1e-9) j++;
      const group = items.slice(i, j);
      const boxes = group.filter((g) => g.name !== null);
      const want = items[i].x;
      let cursor = want - (boxes.length > 0 ? (boxes.length - 1) / 2 : 0) - (boxes.length > 0 ? 0.5 : group[0].span / 2);
      for (const g of group) {
        g.x = cursor + g.span / 2;
        cursor += g.span;
      }
      i = j;
    }
    // Push apart left to right: neighbours at least half their spans apart.
    for (let k = 1; k < items.length; k++) {
      const min = items[k - 1].x + (items[k - 1].span + items[k].span) / 2;
      if (items[k].x < min) items[k].x = min;
    }
  }

  // Column units → px.
  let minX = Infinity;
  let maxX = -Infinity;
  for (const items of rows)
    for (const it of items) {
      minX = Math.min(minX, it.x - it.span / 2);
      maxX = Math.max(maxX, it.x + it.span / 2);
    }
  if (!Number.isFinite(minX)) minX = maxX = 0;
  const colPx = W + gapX;
  const cx = (it: Item): number => margin + (it.x - minX) * colPx - gapX / 2;
  const top = (r: number): number => margin + r * (H + gapY);

  const boxes: LayoutBox[] = [];
  rows.forEach((items, r) => {
    for (const it of items) if (it.name !== null) boxes.push({ name: it.name, index: it.order, row: r, x: cx(it) - W / 2, y: top(r), width: W, height: H });
  });
  boxes.sort((a, b) => a.index - b.index);

  const edges: LayoutEdge[] = edgeWaypoints.map(({ from, to, via }) => {
    const a = boxItem.get(from) as Item;
    const b = boxItem.get(to) as Item;
    const ra = row.get(from) as number;
    const points = [{ x: cx(a), y: top(ra) + H }];
    via.forEach((wp, k) => {
      const r = ra + 1 + k;
      points.push({ x: cx(wp), y: top(r) - gapY / 2 }, { x: cx(wp), y: top(r) + H + gapY / 2 });
    });
    points.push({ x: cx(b), y: top(row.get(to) as number) });
    return { from, to, points };
  });

  return { boxes, edges, width: 2 * margin + (maxX - minX) * colPx - gapX, height: 2 * margin + rowCount * (H + gapY) - gapY, rows: rowCount };
}

/** A run of identical blocks folded into one box by foldRepeatedBlocks. */
export interface FoldedRun {
  /** The box's name: "stage1_block2…9". */
  name: string;
  /** How many blocks it stands for. */
  count: number;
  /** The names of every node folded into it, in spec order. */
  members: string[];
  /** The last node of the last block: what the box outputs. */
  exit: string;
}

/** A node to lay out, with `fold` set when it is a folded run. */
export interface FoldedNode extends LayoutNode {
  fold?: FoldedRun;
}

/**
 * Fold runs of identical consecutive blocks into one box each, for very deep graphs (ResNet-56:
 * 9 blocks a stage). A block is the nodes named `<prefix>block<k>_<rest>` with one `k`, in a row
 * of the spec, reading one node from outside and read from outside only through its last node;
 * blocks `k+1, k+2, …` of one prefix that repeat block `k`'s structure (the same `rest` names,
 * layer configs and wiring) and each read the one before form a run. The first block of a run is
 * kept as it is, so that its structure stays visible; the rest become one box (`fold`). Runs named
 * in `expanded` (by their box name) are left unfolded.
 * @returns the nodes to draw (inputs rewired to the folded boxes) and the runs folded.
 */
export function foldRepeatedBlocks<T extends LayoutNode>(nodes: readonly T[], expanded: ReadonlySet<string> = new Set(), sameLayer: (a: T, b: T) => boolean = () => true): { nodes: (T | FoldedNode)[]; runs: FoldedRun[] } {
  interface Block {
    prefix: string;
    k: number;
    start: number;
    end: number;
    entry: string;
    exit: string;
    sig: string;
  }
  const re = /^(.*?block)(\d+)(_.*)$/;
  const blocks: Block[] = [];
  const readBy = new Map<string, number[]>();
  nodes.forEach((n, i) => n.inputs.forEach((x) => readBy.set(x, [...(readBy.get(x) ?? []), i])));
  for (let i = 0; i < nodes.length; ) {
    const m = re.exec(nodes[i].name);
    if (!m) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < nodes.length && re.exec(nodes[j + 1].name)?.slice(1, 3).join() === m.slice(1, 3).join()) j++;
    const inside = new Set(nodes.slice(i, j + 1).map((n) => n.name));
    const entries = [...new Set(nodes.slice(i, j + 1).flatMap((n) => n.inputs.filter((x) => !inside.has(x))))];
    const exit = nodes[j].name;
    const leaks = [...inside].some((name) => name !== exit && (readBy.get(name) ?? []).some((r) => r > j || r < i));
    if (entries.length === 1 && !leaks) {
      const rest = (name: string): string => (inside.has(name) ? (re.exec(name)?.[3] ?? name) : '<entry>');
      const sig = JSON.stringify(nodes.slice(i, j + 1).map((n) => [rest(n.name), n.inputs.map(rest)]));
      blocks.push({ prefix: m[1], k: Number(m[2]), start: i, end: j, entry: entries[0], exit, sig });
    }
    i = j + 1;
  }
  const runs: FoldedRun[] = [];
  const foldOf = new Map<number, FoldedRun>(); // node index → its run
  for (let b = 0; b < blocks.length; ) {
    let e = b;
    const same = (x: Block, y: Block): boolean =>
      y.prefix === x.prefix && y.k === x.k + 1 && y.start === x.end + 1 && y.entry === x.exit && y.sig === x.sig && nodes.slice(x.start, x.end + 1).every((n, q) => sameLayer(n, nodes[y.start + q]));
    while (e + 1 < blocks.length && same(blocks[e], blocks[e + 1])) e++;
    if (e - b >= 2) {
      const first = blocks[b + 1];
      const last = blocks[e];
      const name = `${first.prefix}${first.k}…${last.k}`;
      if (!expanded.has(name)) {
        const run: FoldedRun = { name, count: e - b, members: nodes.slice(first.start, last.end + 1).map((n) => n.name), exit: last.exit };
        runs.push(run);
        for (let q = first.start; q <= last.end; q++) foldOf.set(q, run);
      }
    }
    b = e + 1;
  }
  if (runs.length === 0) return { nodes: [...nodes], runs };
  const exitOf = new Map(runs.map((r) => [r.exit, r.name]));
  const out: (T | FoldedNode)[] = [];
  nodes.forEach((n, i) => {
    const run = foldOf.get(i);
    if (run) {
      if (n.name === run.members[0]) out.push({ name: run.name, inputs: n.inputs.filter((x) => !run.members.includes(x)), fold: run });
      return;
    }
    out.push(n.inputs.some((x) => exitOf.has(x)) ? { ...n, inputs: n.inputs.map((x) => exitOf.get(x) ?? x) } : n);
  });
  return { nodes: out, runs };
}
