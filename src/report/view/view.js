// git lineage view: draws the lineage the page carries as JSON, with no library and no
// network. The layout is done here, not in Rust, because collapsing or expanding a schema
// changes the graph to lay out.
//
// What tests read: every node is an element `.node` with `data-id` (the model's id: `d:` and a
// dataset's name, `t:` and a transformation's id, `g:` and a schema for a collapsed schema) and
// `data-name`; selecting one gives it the class `selected`, and the nodes upstream and
// downstream of it the classes `upstream` and `downstream`. `body[data-ready]` is set once the
// first drawing is done, with the time it took in `data-render-ms`.
(function () {
  "use strict";

  const model = JSON.parse(document.getElementById("lineage-data").textContent);
  const nodes = model.nodes;
  const svg = document.getElementById("graph");
  const panel = document.getElementById("panel");
  const search = document.getElementById("search");
  const matches = document.getElementById("matches");

  const NODE_W = 210, NODE_H = 30, GROUP_H = 44, LAYER_GAP = 300, ROW_GAP = 14;
  const MIN_ROWS = 40, COLUMN_GAP = 50;
  // Above this many datasets the page opens with one box per schema: thousands of boxes
  // cannot be read at once, and a schema is where one looks first.
  const COLLAPSE_ABOVE = 300;

  // Indexes over the whole model (whatever is collapsed).
  const byId = new Map(nodes.map((n, i) => [n.id, i]));
  const dataOut = nodes.map(() => []);
  const dataIn = nodes.map(() => []);
  for (const e of model.edges) {
    if (e.kind === "data") { dataOut[e.from].push(e.to); dataIn[e.to].push(e.from); }
  }
  const groups = new Map();
  nodes.forEach((n, i) => {
    if (!groups.has(n.group)) groups.set(n.group, []);
    groups.get(n.group).push(i);
  });
  const datasetCount = nodes.filter((n) => n.kind === "dataset").length;

  const state = {
    collapsed: new Set(datasetCount > COLLAPSE_ABOVE ? groups.keys() : []),
    selected: null, // a visible key
    column: null, // a `dataset.column` whose lineage the panel shows
    view: { x: 0, y: 0, k: 1 },
    visible: null,
    positions: null,
    elements: new Map(),
    edgeElements: [],
    up: new Set(), // visible keys upstream of the selection
    down: new Set(),
  };

  // ---- small helpers ----
  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function short(text, max) {
    return text.length <= max ? text : "\u2026" + text.slice(text.length - max + 1);
  }
  function ms(x) {
    if (x == null || !isFinite(x)) return "-";
    if (x < 1000) return x.toFixed(0) + " ms";
    if (x < 60000) return (x / 1000).toFixed(x < 10000 ? 2 : 1) + " s";
    return (x / 60000).toFixed(1) + " min";
  }
  function bytes(x) {
    if (x == null || !isFinite(x)) return "-";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let u = 0;
    while (x >= 1024 && u < units.length - 1) { x /= 1024; u++; }
    return x.toFixed(u === 0 ? 0 : 1) + " " + units[u];
  }
  function keyOf(i) {
    const n = nodes[i];
    return state.collapsed.has(n.group) ? "g:" + n.group : n.id;
  }
  function badge(status) {
    return status ? `<span class="badge ${status}">${status}</span>` : "";
  }

  // ---- the graph that is drawn: nodes of collapsed schemas merged into one box ----
  function visibleGraph() {
    const vnodes = new Map();
    nodes.forEach((n, i) => {
      const key = keyOf(i);
      let v = vnodes.get(key);
      if (!v) {
        v = key.startsWith("g:")
          ? { key, kind: "group", name: n.group, members: [], statuses: new Set() }
          : { key, kind: n.kind, name: n.name, members: [], statuses: new Set() };
        vnodes.set(key, v);
      }
      v.members.push(i);
      v.statuses.add(n.status || "");
    });
    for (const v of vnodes.values()) {
      const s = [...v.statuses];
      v.status = s.length === 1 ? s[0] : s.some((x) => x) ? "changed" : "";
    }
    const vedges = new Map();
    for (const e of model.edges) {
      const a = keyOf(e.from), b = keyOf(e.to);
      if (a === b) continue;
      const k = a + "\u0000" + b + "\u0000" + e.kind;
      const old = vedges.get(k);
      if (!old) vedges.set(k, { from: a, to: b, kind: e.kind, status: e.status || "" });
      else if (old.status !== (e.status || "")) old.status = "changed";
    }
    return { nodes: vnodes, edges: [...vedges.values()] };
  }

  // ---- layout: layers by longest path, order in a layer by barycenter sweeps ----
  // Layers of a graph given by its successor lists: the longest path from a source, with the
  // edges that close a cycle left out, and each source moved up to just before its first
  // reader. Returns the layer of each node and a topological order.
  function layering(n, succ) {
    // Depth-first post-order; an edge to a node still on the stack closes a cycle.
    const mark = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
    const order = [];
    const back = new Set();
    for (let s = 0; s < n; s++) {
      if (mark[s]) continue;
      const stack = [[s, 0]];
      mark[s] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const [v, at] = top;
        if (at < succ[v].length) {
          top[1]++;
          const w = succ[v][at];
          if (mark[w] === 0) { mark[w] = 1; stack.push([w, 0]); }
          else if (mark[w] === 1) back.add(v + "," + w);
        } else {
          mark[v] = 2; order.push(v); stack.pop();
        }
      }
    }
    order.reverse(); // a topological order of the edges that are kept
    const layer = new Int32Array(n);
    const hasPred = new Uint8Array(n);
    for (const v of order) {
      for (const w of succ[v]) {
        if (back.has(v + "," + w)) continue;
        hasPred[w] = 1;
        if (layer[w] < layer[v] + 1) layer[w] = layer[v] + 1;
      }
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const v = order[i];
      if (hasPred[v]) continue;
      let min = Infinity;
      for (const w of succ[v]) if (!back.has(v + "," + w)) min = Math.min(min, layer[w]);
      if (isFinite(min) && min - 1 > layer[v]) layer[v] = min - 1;
    }
    return { layer, order };
  }

  // The layers are those of the whole lineage, computed once: a node keeps its place when a
  // schema is collapsed or opened, and a schema's box sits at the median layer of what it
  // holds (the boxes of schemas that feed each other both ways would otherwise make a chain).
  const fullLayer = (() => {
    const succ = nodes.map(() => []);
    for (const e of model.edges) succ[e.from].push(e.to);
    const { layer, order } = layering(nodes.length, succ);
    // Ties in a layer start in depth-first order, which keeps related nodes together.
    const rank = new Int32Array(nodes.length);
    order.forEach((v, k) => { rank[v] = k; });
    return { layer, rank };
  })();

  function layout(graph) {
    const keys = [...graph.nodes.keys()];
    const index = new Map(keys.map((k, i) => [k, i]));
    const n = keys.length;
    const succ = keys.map(() => []), pred = keys.map(() => []);
    for (const e of graph.edges) {
      const a = index.get(e.from), b = index.get(e.to);
      succ[a].push(b); pred[b].push(a);
    }
    const median = (members, of) => {
      const values = members.map((i) => of[i]).sort((a, b) => a - b);
      return values[values.length >> 1];
    };
    const wanted = keys.map((k) => median(graph.nodes.get(k).members, fullLayer.layer));
    const start = keys.map((k) => median(graph.nodes.get(k).members, fullLayer.rank));
    // Empty layers closed up.
    const levels = [...new Set(wanted)].sort((a, b) => a - b);
    const level = new Map(levels.map((l, i) => [l, i]));
    const layers = levels.map(() => []);
    const byStart = [...keys.keys()].sort((a, b) => start[a] - start[b]);
    for (const v of byStart) layers[level.get(wanted[v])].push(v);
    const layer = wanted.map((l) => level.get(l));
    const height = (v) => (graph.nodes.get(keys[v]).kind === "group" ? GROUP_H : NODE_H);
    const y = new Float64Array(n);
    function place(list) {
      let total = 0;
      for (const v of list) total += height(v) + ROW_GAP;
      let at = -total / 2;
      for (const v of list) { y[v] = at; at += height(v) + ROW_GAP; }
    }
    layers.forEach(place);
    // Barycenter sweeps, down then up: each node moves toward the mean height of its
    // neighbours on the side swept from. A few passes remove most crossings.
    const bary = (v, side) => {
      const list = side[v];
      if (!list.length) return y[v];
      let sum = 0;
      for (const w of list) sum += y[w];
      return sum / list.length;
    };
    for (let pass = 0; pass < 4; pass++) {
      for (let l = 1; l < layers.length; l++) {
        const b = new Map(layers[l].map((v) => [v, bary(v, pred)]));
        layers[l].sort((p, q) => b.get(p) - b.get(q));
        place(layers[l]);
      }
      for (let l = layers.length - 2; l >= 0; l--) {
        const b = new Map(layers[l].map((v) => [v, bary(v, succ)]));
        layers[l].sort((p, q) => b.get(p) - b.get(q));
        place(layers[l]);
      }
    }
    // A layer taller than maxRows boxes is wrapped into columns side by side, in its order:
    // half of a large lineage can sit in one layer (what nothing reads), and one column of a
    // thousand boxes could only be seen too small to read.
    // The height where a wrapped layout is about as wide as a screen (1.6 : 1), and never
    // below MIN_ROWS.
    const maxRows = Math.max(MIN_ROWS, Math.ceil(Math.sqrt((n * (NODE_W + COLUMN_GAP)) / (1.6 * (NODE_H + ROW_GAP)))));
    const pos = new Map();
    let x = 0;
    for (const list of layers) {
      const columns = Math.ceil(list.length / maxRows);
      const rows = Math.ceil(list.length / columns);
      for (let c = 0; c < columns; c++) {
        const part = list.slice(c * rows, (c + 1) * rows);
        place(part);
        for (const v of part) pos.set(keys[v], { x: x + c * (NODE_W + COLUMN_GAP), y: y[v], h: height(v) });
      }
      x += columns * (NODE_W + COLUMN_GAP) - COLUMN_GAP + (LAYER_GAP - NODE_W);
    }
    return pos;
  }

  // ---- drawing ----
  function nodeLabel(v) {
    if (v.kind === "group") {
      const sets = v.members.filter((i) => nodes[i].kind === "dataset").length;
      const steps = v.members.length - sets;
      return [v.name, `${sets} datasets, ${steps} transformations`];
    }
    if (v.kind === "transformation") {
      // A statement by its file and line; an Airflow task or a Python function by its name,
      // with its file below.
      const t = nodes[v.members[0]];
      const file = t.file.split("/").pop();
      const at = t.name.indexOf("::");
      return at >= 0 ? [t.name.slice(at + 2), `${t.op} in ${file}`] : [t.name.split("/").pop(), t.op];
    }
    return [v.name, null];
  }

  function draw() {
    const started = performance.now();
    const graph = visibleGraph();
    const pos = layout(graph);
    state.visible = graph;
    state.positions = pos;
    const parts = ['<g id="viewport">', '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#9ca3af"/></marker></defs>', '<g id="edges">'];
    graph.edges.forEach((e, i) => {
      const a = pos.get(e.from), b = pos.get(e.to);
      const x1 = a.x + NODE_W, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
      const bend = Math.max(40, Math.abs(x2 - x1) / 2);
      parts.push(`<path class="edge ${e.kind} ${e.status}" data-edge="${i}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}" marker-end="url(#arrow)"/>`);
    });
    parts.push('</g><g id="nodes">');
    for (const v of graph.nodes.values()) {
      const p = pos.get(v.key);
      const [label, sub] = nodeLabel(v);
      const text = sub
        ? `<text x="10" y="${p.h / 2 - 2}">${esc(short(label, 28))}</text><text class="sub" x="10" y="${p.h / 2 + 11}">${esc(short(sub, 34))}</text>`
        : `<text x="10" y="${p.h / 2 + 4}">${esc(short(label, 28))}</text>`;
      parts.push(`<g class="node ${v.kind} ${v.status}" data-id="${esc(v.key)}" data-name="${esc(v.name)}" transform="translate(${p.x},${p.y})"><title>${esc(v.name)}</title><rect width="${NODE_W}" height="${p.h}" rx="${v.kind === "transformation" ? 14 : 3}"/>${text}</g>`);
    }
    parts.push("</g></g>");
    svg.innerHTML = parts.join("");
    state.elements = new Map();
    for (const el of svg.querySelectorAll(".node")) state.elements.set(el.getAttribute("data-id"), el);
    state.edgePaths = [...svg.querySelectorAll(".edge")];
    state.edgeElements = state.edgePaths.map((el) => graph.edges[+el.getAttribute("data-edge")]);
    applyView();
    highlight();
    summary(graph);
    document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  }

  function summary(graph) {
    const t = nodes.length - datasetCount;
    const p = model.prediction;
    // A revision given as a commit id is said once, shortened.
    const said = (rev, commit) => (rev === commit ? "" : esc(rev) + " ") + `<code>${esc(commit.slice(0, 10))}</code>`;
    let text = `${said(model.revision, model.commit)}: ${datasetCount} datasets, ${t} transformations, ${graph.nodes.size} boxes drawn`;
    if (model.base) text += ` &middot; compared with ${said(model.base.revision, model.base.commit)}`;
    // The reason's first line here; the whole of it (with its hint) in a transformation's panel.
    text += p.unavailable ? ` &middot; no prediction: ${esc(p.unavailable.split("\n")[0])}` : ` &middot; predicted pipeline time ${ms(p.makespan_ms)} (model ${esc(p.model)})`;
    document.getElementById("summary").innerHTML = text;
  }

  function legend() {
    const items = [["selected", "var(--selected)"], ["upstream", "var(--upstream)"], ["downstream", "var(--downstream)"]];
    if (model.base) items.push(["added", "var(--added)"], ["removed", "var(--removed)"], ["changed", "var(--changed)"]);
    const kinds = new Set(model.edges.map((e) => e.kind));
    if (kinds.has("order")) items.push(["runs after (no data)", "var(--line)", "dashed"]);
    if (kinds.has("runs")) items.push(["runs the file's statements", "var(--line)", "dotted"]);
    document.getElementById("legend").innerHTML = items.map(([name, color, style]) => `<span><i style="border-color:${color}${style ? ";border-style:" + style : ""}"></i>${name}</span>`).join("");
  }

  // ---- pan and zoom ----
  function applyView() {
    const g = document.getElementById("viewport");
    if (g) g.setAttribute("transform", `translate(${state.view.x},${state.view.y}) scale(${state.view.k})`);
  }
  function zoomAt(factor, cx, cy) {
    const v = state.view;
    const k = Math.min(4, Math.max(0.02, v.k * factor));
    v.x = cx - ((cx - v.x) * k) / v.k;
    v.y = cy - ((cy - v.y) * k) / v.k;
    v.k = k;
    applyView();
  }
  function fit() {
    const box = svg.getBoundingClientRect();
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const p of state.positions.values()) {
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x + NODE_W); y1 = Math.max(y1, p.y + p.h);
    }
    if (!isFinite(x0)) return;
    const k = Math.min(1.2, (box.width - 40) / (x1 - x0), (box.height - 40) / (y1 - y0));
    state.view = { k, x: (box.width - (x1 - x0) * k) / 2 - x0 * k, y: (box.height - (y1 - y0) * k) / 2 - y0 * k };
    applyView();
  }
  // Shows a node with its lineage: the view frames the node and what is highlighted with
  // it, zoomed between 0.6 (names still readable) and 1.2; when that lineage is too wide to
  // keep the node itself in sight, the view centres on the node.
  function centre(key) {
    const p = state.positions.get(key);
    if (!p) return;
    const box = svg.getBoundingClientRect();
    let x0 = p.x, y0 = p.y, x1 = p.x + NODE_W, y1 = p.y + p.h;
    for (const other of [...state.up, ...state.down]) {
      const q = state.positions.get(other);
      if (!q) continue;
      x0 = Math.min(x0, q.x); y0 = Math.min(y0, q.y);
      x1 = Math.max(x1, q.x + NODE_W); y1 = Math.max(y1, q.y + q.h);
    }
    const k = Math.min(1.2, Math.max(0.6, Math.min((box.width - 40) / (x1 - x0), (box.height - 40) / (y1 - y0))));
    let view = { k, x: box.width / 2 - ((x0 + x1) / 2) * k, y: box.height / 2 - ((y0 + y1) / 2) * k };
    const sx = view.x + p.x * k, sy = view.y + p.y * k;
    if (sx < 0 || sy < 0 || sx + NODE_W * k > box.width || sy + p.h * k > box.height) {
      view = { k, x: box.width / 2 - (p.x + NODE_W / 2) * k, y: box.height / 2 - (p.y + p.h / 2) * k };
    }
    state.view = view;
    applyView();
  }
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const box = svg.getBoundingClientRect();
    zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - box.left, ev.clientY - box.top);
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, vx: state.view.x, vy: state.view.y, moved: false };
  });
  window.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    svg.classList.add("panning");
    state.view.x = drag.vx + dx; state.view.y = drag.vy + dy;
    applyView();
  });
  window.addEventListener("pointerup", () => {
    svg.classList.remove("panning");
    setTimeout(() => { drag = null; }, 0);
  });
  const centreOfSvg = () => { const b = svg.getBoundingClientRect(); return [b.width / 2, b.height / 2]; };
  document.getElementById("zoom-in").onclick = () => zoomAt(1.25, ...centreOfSvg());
  document.getElementById("zoom-out").onclick = () => zoomAt(0.8, ...centreOfSvg());
  document.getElementById("zoom-fit").onclick = fit;
  document.getElementById("collapse-all").onclick = () => { state.collapsed = new Set(groups.keys()); reselect(); draw(); fit(); };
  document.getElementById("expand-all").onclick = () => { state.collapsed = new Set(); reselect(); draw(); fit(); };

  // ---- selection: what is upstream and downstream of it ----
  function walk(starts, next) {
    const seen = new Set(starts);
    const stack = [...starts];
    const out = new Set();
    while (stack.length) {
      const v = stack.pop();
      for (const w of next[v]) {
        if (!seen.has(w)) { seen.add(w); out.add(w); stack.push(w); }
      }
    }
    return out;
  }
  function membersOf(key) {
    const v = state.visible && state.visible.nodes.get(key);
    return v ? v.members : [];
  }
  function highlight() {
    const sel = state.selected;
    const up = new Set(), down = new Set();
    const column = state.column;
    const own = column == null ? null : byId.get("d:" + column.slice(0, column.lastIndexOf(".")));
    if (sel != null && own != null && keyOf(own) === sel) {
      // A column chosen: the datasets its lineage passes through, and the transformations
      // between them.
      for (const i of columnReach(own, columnUpstream(column), dataIn, dataOut)) up.add(keyOf(i));
      for (const i of columnReach(own, columnDownstream(column), dataOut, dataIn)) down.add(keyOf(i));
      up.delete(sel); down.delete(sel);
    } else if (sel != null) {
      const members = membersOf(sel);
      for (const i of walk(members, dataIn)) up.add(keyOf(i));
      for (const i of walk(members, dataOut)) down.add(keyOf(i));
      up.delete(sel); down.delete(sel);
    }
    state.up = up;
    state.down = down;
    svg.classList.toggle("focus", sel != null);
    for (const [key, el] of state.elements) {
      el.classList.toggle("selected", key === sel);
      el.classList.toggle("upstream", up.has(key));
      el.classList.toggle("downstream", down.has(key));
    }
    state.edgePaths.forEach((el, i) => {
      const e = state.edgeElements[i];
      const isUp = e.kind === "data" && up.has(e.from) && (up.has(e.to) || e.to === sel);
      const isDown = e.kind === "data" && down.has(e.to) && (down.has(e.from) || e.from === sel);
      el.classList.toggle("upstream", isUp);
      el.classList.toggle("downstream", isDown);
    });
  }
  // After a collapse or expansion the selected node may live under another key.
  function reselect() {
    if (state.selected == null) return;
    const members = membersOf(state.selected);
    state.selected = members.length ? keyOf(members[0]) : null;
  }
  function select(key, column) {
    state.selected = key;
    state.column = column || null;
    highlight();
    details(key);
  }
  svg.addEventListener("click", (ev) => {
    if (drag && drag.moved) return;
    const el = ev.target.closest(".node");
    if (!el) { select(null); return; }
    select(el.getAttribute("data-id"));
  });
  svg.addEventListener("dblclick", (ev) => {
    const el = ev.target.closest(".node.group");
    if (!el) return;
    const group = el.getAttribute("data-name");
    expand(group);
  });
  function expand(group) {
    const members = groups.get(group) || [];
    state.collapsed.delete(group);
    draw();
    const first = members.find((i) => nodes[i].kind === "dataset");
    if (first != null) { select(nodes[first].id); centre(nodes[first].id); }
  }
  function collapse(group) {
    state.collapsed.add(group);
    draw();
    select("g:" + group);
    centre("g:" + group);
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && document.activeElement !== search) select(null);
  });

  // ---- the side panel ----
  function link(i) {
    const n = nodes[i];
    return `<a class="go" data-go="${esc(n.id)}">${esc(n.name)}</a>${badge(n.status)}`;
  }
  function list(items, empty) {
    return items.length ? `<ul>${items.map((x) => `<li>${x}</li>`).join("")}</ul>` : `<p class="muted">${empty}</p>`;
  }
  function details(key) {
    if (key == null) {
      panel.innerHTML = '<p class="hint">Click a dataset or transformation to see its lineage.</p>';
      return;
    }
    const v = state.visible.nodes.get(key);
    if (!v) return;
    const members = v.members;
    const up = walk(members, dataIn), down = walk(members, dataOut);
    const count = (set, kind) => [...set].filter((i) => nodes[i].kind === kind).length;
    const reach = `<p>${count(up, "dataset")} datasets upstream, ${count(down, "dataset")} downstream.</p>`;
    if (v.kind === "group") {
      const sets = members.filter((i) => nodes[i].kind === "dataset");
      const steps = members.filter((i) => nodes[i].kind === "transformation");
      panel.innerHTML = `<h2>schema ${esc(v.name)}${badge(v.status)}</h2>${reach}
        <p><button type="button" data-expand="${esc(v.name)}">Expand this schema</button></p>
        <h3>Datasets (${sets.length})</h3>${list(sets.slice(0, 300).map(link), "none")}
        <h3>Transformations (${steps.length})</h3>${list(steps.slice(0, 300).map(link), "none")}`;
      return;
    }
    const i = members[0];
    const n = nodes[i];
    if (n.kind === "dataset") {
      const writers = dataIn[i].map(link), readers = dataOut[i].map(link);
      const cols = n.columns.map((c) => `<a class="go" data-column="${esc(n.name + "." + c)}">${esc(c)}</a>`);
      panel.innerHTML = `<h2>${esc(n.name)}${badge(n.status)}</h2><p class="muted">dataset in ${esc(n.group)}</p>${reach}
        <p><button type="button" data-collapse="${esc(n.group)}">Collapse schema ${esc(n.group)}</button></p>
        ${state.column ? columnDetails(state.column) : ""}
        <h3>Columns (${n.columns.length})</h3>${list(cols, "not known")}
        <h3>Written by</h3>${list(writers, "nothing here: a source")}
        <h3>Read by</h3>${list(readers, "nothing here: a target")}`;
      return;
    }
    panel.innerHTML = transformationDetails(i, reach);
  }
  function transformationDetails(i, reach) {
    const n = nodes[i];
    const reads = dataIn[i].map(link), writes = dataOut[i].map(link);
    let html = `<h2>${esc(n.name)}${badge(n.status)}</h2><p class="muted">${esc(n.op)} transformation, ${esc(n.confidence)} lineage${n.procedure ? ", in procedure " + esc(n.procedure) : ""}</p>
      <p>Code: <code class="location">${esc(n.file)}:${n.line}</code></p>${reach}`;
    const p = n.prediction;
    html += "<h3>Predicted runtime</h3>";
    if (p) {
      const interval = p.duration_low_ms != null ? ` (90 %: ${ms(p.duration_low_ms)} to ${ms(p.duration_high_ms)})` : "";
      const memory = p.memory_bytes != null ? `, peak memory ${bytes(p.memory_bytes)}` : "";
      html += `<p class="prediction">${ms(p.duration_ms)}${interval}${memory}</p>`;
    } else if (n.status === "removed") {
      html += '<p class="prediction muted">no prediction: the change removed it</p>';
    } else if (model.prediction.unavailable) {
      html += `<p class="prediction muted">no prediction: ${esc(model.prediction.unavailable).replace(/\n/g, "<br>")}</p>`;
    } else {
      html += '<p class="prediction muted">no prediction: it writes no dataset, so it is not part of the predicted pipeline</p>';
    }
    html += `<h3>Last runs (${n.runs_total} recorded)</h3>`;
    html += n.runs.length
      ? `<table class="runs"><tr><th>started</th><th>duration</th><th>peak memory</th><th>status</th><th>commit</th></tr>${n.runs.map((r) => `<tr><td>${esc(r.started_at.replace("T", " ").replace(/\.\d+Z$|Z$/, ""))}</td><td>${ms(r.wall_ms)}</td><td>${bytes(r.max_rss_bytes)}</td><td>${esc(r.status)}</td><td><code>${esc(r.commit)}</code></td></tr>`).join("")}</table>`
      : '<p class="muted">no run recorded under this id</p>';
    if (n.change) {
      const c = n.change;
      const rows = [["reads added", c.reads_added], ["reads removed", c.reads_removed], ["writes added", c.writes_added], ["writes removed", c.writes_removed], ["column edges added", c.columns_added], ["column edges removed", c.columns_removed], ["indirect edges added", c.indirect_added], ["indirect edges removed", c.indirect_removed]];
      html += `<h3>What the change did</h3>${list(rows.filter(([, xs]) => xs && xs.length).map(([what, xs]) => `${what}: ${xs.map(esc).join(", ")}`), "its lineage as a whole")}<p>${c.impact} datasets downstream.</p>`;
    }
    if (n.structure) {
      html += `<h3>Operations</h3><p>${Object.entries(n.structure).filter(([, v]) => typeof v === "number" ? v : v && v.length).map(([k, v]) => `${esc(k.replace(/_/g, " "))}: ${esc(Array.isArray(v) ? v.join(", ") : v)}`).join(" &middot; ")}</p>`;
    }
    if (n.operations) {
      html += `<h3>Operations in code order</h3>${list(n.operations.map((o) => `line ${o.line}: ${esc(o.kind)}${o.dataset ? " " + esc(o.dataset) : ""}`), "none")}`;
    }
    html += `<h3>Reads</h3>${list(reads, "nothing")}<h3>Writes</h3>${list(writes, "nothing")}`;
    return html;
  }
  // A column's lineage, all the way up and down, as `git lineage impact` walks it (graph/mod.rs
  // column_upstream / column_downstream): direct edges keep the way the walk came by, the
  // first indirect step names it; a row-level indirect edge (filter, join, grouping, sort)
  // targets a dataset and so decides each column written to it.
  const COLUMN_LEVEL = new Set(["window", "conditional"]);
  const directFrom = new Map(), directInto = new Map(), indirectFrom = new Map(), indirectInto = new Map();
  const written = new Map(); // dataset -> the columns direct edges write to it
  const push = (map, key, value) => { if (!map.has(key)) map.set(key, []); map.get(key).push(value); };
  for (const c of model.columns) {
    if (c.how === "direct") {
      push(directFrom, c.from, c);
      push(directInto, c.to, c);
      const dot = c.to.lastIndexOf(".");
      if (dot > 0 && !(written.get(c.to.slice(0, dot)) || []).includes(c.to)) push(written, c.to.slice(0, dot), c.to);
    } else {
      push(indirectFrom, c.from, c);
      push(indirectInto, c.to, c);
    }
  }
  function columnWalk(start, step) {
    const out = new Map();
    const stack = [[start, "direct"]];
    while (stack.length) {
      const [at, how] = stack.pop();
      for (const [next, nextHow] of step(at, how)) {
        if (next !== start && !out.has(next)) { out.set(next, nextHow); stack.push([next, nextHow]); }
      }
    }
    return [...out.entries()].sort();
  }
  const named = (how, kind) => (how === "direct" ? kind : how);
  function columnUpstream(column) {
    return columnWalk(column, (at, how) => {
      const dataset = at.includes(".") ? at.slice(0, at.lastIndexOf(".")) : "";
      const next = (directInto.get(at) || []).map((c) => [c.from, how]);
      for (const c of indirectInto.get(at) || []) next.push([c.from, named(how, c.how)]);
      for (const c of indirectInto.get(dataset) || []) if (!COLUMN_LEVEL.has(c.how)) next.push([c.from, named(how, c.how)]);
      return next;
    });
  }
  function columnDownstream(column) {
    return columnWalk(column, (at, how) => {
      const next = (directFrom.get(at) || []).map((c) => [c.to, how]);
      for (const c of indirectFrom.get(at) || []) {
        const targets = COLUMN_LEVEL.has(c.how) ? [c.to] : written.get(c.to) || [];
        for (const t of targets) next.push([t, named(how, c.how)]);
      }
      return next;
    });
  }
  // The datasets of `columns` (a column's lineage one way, from `start`'s dataset), and the
  // transformations that lead from one of them (`back`: towards it) to another or to `start`.
  function columnReach(start, columns, back, forth) {
    const sets = new Set();
    for (const [c] of columns) {
      const i = byId.get("d:" + c.slice(0, c.lastIndexOf(".")));
      if (i != null) sets.add(i);
    }
    const out = new Set(sets);
    for (const d of [...sets, start]) {
      for (const t of back[d]) if (back[t].some((e) => sets.has(e))) out.add(t);
    }
    return out;
  }
  function columnDetails(column) {
    const rows = (found, cls, empty) => found.length
      ? `<ul class="${cls}">${found.map(([c, how]) => `<li data-col="${esc(c)}">${esc(c)} <span class="muted">${esc(how)}</span></li>`).join("")}</ul>`
      : `<p class="muted">${empty}</p>`;
    return `<h3>Column ${esc(column)}</h3><p>comes from (${columnUpstream(column).length}):</p>${rows(columnUpstream(column), "column-up", "no known source")}
      <p>feeds or decides (${columnDownstream(column).length}):</p>${rows(columnDownstream(column), "column-down", "nothing known")}`;
  }
  panel.addEventListener("click", (ev) => {
    const go = ev.target.closest("[data-go]");
    if (go) { choose(byId.get(go.getAttribute("data-go"))); return; }
    // A column of a column's lineage: go to it.
    const linked = ev.target.closest("[data-col]");
    if (linked) {
      const name = linked.getAttribute("data-col");
      const dataset = byId.get("d:" + name.slice(0, name.lastIndexOf(".")));
      if (dataset != null) choose(dataset, name);
      return;
    }
    const col = ev.target.closest("[data-column]");
    if (col) { state.column = col.getAttribute("data-column"); details(state.selected); return; }
    const ex = ev.target.closest("[data-expand]");
    if (ex) { expand(ex.getAttribute("data-expand")); return; }
    const co = ev.target.closest("[data-collapse]");
    if (co) collapse(co.getAttribute("data-collapse"));
  });

  // ---- search ----
  // Choosing a node opens its schema when it is collapsed, selects it and centres it.
  function choose(i, column) {
    if (i == null) return;
    const n = nodes[i];
    if (state.collapsed.has(n.group)) { state.collapsed.delete(n.group); draw(); }
    select(n.id, column);
    centre(n.id);
  }
  let found = [];
  function find(text) {
    const q = text.trim().toLowerCase();
    if (!q) return [];
    const out = [];
    nodes.forEach((n, i) => {
      const name = n.name.toLowerCase();
      const at = name.indexOf(q);
      if (at >= 0) out.push({ i, label: n.name, what: n.kind, rank: name === q ? 0 : at === 0 || name.endsWith("." + q) ? 1 : 2 });
      if (n.kind === "dataset" && q.length >= 2) {
        for (const c of n.columns) {
          const full = n.name + "." + c;
          if (full.toLowerCase().includes(q)) out.push({ i, column: full, label: full, what: "column", rank: c.toLowerCase() === q ? 2 : 3 });
        }
      }
    });
    out.sort((a, b) => a.rank - b.rank || (a.what === "dataset" ? -1 : 0) - (b.what === "dataset" ? -1 : 0) || a.label.localeCompare(b.label));
    return out.slice(0, 50);
  }
  function showMatches() {
    found = find(search.value);
    active = 0;
    matches.hidden = !search.value.trim();
    matches.innerHTML = found.length
      ? found.map((m, k) => `<li data-match="${k}" data-id="${esc(nodes[m.i].id)}"${m.column ? ` data-column="${esc(m.column)}"` : ""}${k === 0 ? ' class="active"' : ""}>${esc(m.label)}<small>${m.what}</small></li>`).join("")
      : '<li class="muted">no dataset, column or transformation matches</li>';
  }
  search.addEventListener("input", showMatches);
  search.addEventListener("focus", () => { if (search.value.trim()) showMatches(); });
  let active = 0;
  search.addEventListener("keydown", (ev) => {
    if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && found.length) {
      ev.preventDefault();
      active = (active + (ev.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
      matches.querySelectorAll("[data-match]").forEach((li, k) => li.classList.toggle("active", k === active));
      const li = matches.querySelector(".active");
      if (li) li.scrollIntoView({ block: "nearest" });
    }
    if (ev.key === "Enter" && found.length) pick(Math.min(active, found.length - 1));
    if (ev.key === "Escape") { matches.hidden = true; search.blur(); }
  });
  matches.addEventListener("mousedown", (ev) => {
    const li = ev.target.closest("[data-match]");
    if (!li) return;
    ev.preventDefault();
    pick(+li.getAttribute("data-match"));
  });
  function pick(k) {
    const m = found[k];
    matches.hidden = true;
    search.value = m.label;
    choose(m.i, m.column);
  }
  document.addEventListener("click", (ev) => { if (!ev.target.closest("#find")) matches.hidden = true; });

  legend();
  draw();
  fit();
  if (!nodes.length) {
    panel.innerHTML = '<p class="hint">This revision\'s lineage has no dataset: none of its SQL, dbt or Python files reads or writes one.</p>';
  }
  document.body.dataset.ready = "1";
})();
