"""The report as one self-contained HTML page.

The page needs nothing but itself: the figures are ``data:`` URIs, the charts inline SVG,
the style and the few lines of script inline, and its Content-Security-Policy forbids
every network request (``default-src 'none'``) and every script but its own (by hash).
Every text that comes from the results (initializer specs, dataset paths, column names,
messages) goes through :func:`html.escape`, so ``<script>`` in a spec shows as text.

The layout of a results file is read loosely, so that any command's file renders:

- ``runs`` or ``inits`` (a list of objects, one per run): a table of their scalar fields,
  a chart of the ``costs`` curves, the ``flags`` and the per-layer statistics
  (``layers``, with the theory's ``predicted`` values beside them) of each;
- ``curves`` (``{label: {"measured": [...], "predicted": [...]}}``): one chart;
- any other list of objects (``checks``, ``groups``, ``paired``): a table;
- ``config`` or ``spec``: a key/value table, nested objects as dotted keys;
- the other scalar fields: a key/value table at the top;
- ``provenance``: the command line and versions, under "Reproduce".
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from initlab.report.sources import Sources
from initlab.report.svg import PALETTE, Series, line_chart

__all__ = ["build_html", "flatten", "format_value"]

MAX_STORED_ROWS = 500  # rows of a store's run table shown in the page
MAX_CURVE_POINTS = 400

STYLE = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d8dde6; --band: #f4f6f9; --accent: #1f77b4; }
* { box-sizing: border-box; }
body {
  margin: 0 auto; max-width: 1100px; padding: 1.5rem 1.25rem 4rem; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
}
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 {
  font-size: 1.25rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem;
  border-bottom: 2px solid var(--line);
}
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
h4 { font-size: .95rem; margin: 1rem 0 .3rem; }
p.lead { color: var(--muted); margin: 0 0 1rem; }
nav { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: .6rem 0 1rem; font-size: .9rem; }
nav a { color: var(--accent); text-decoration: none; }
.toggles {
  display: flex; flex-wrap: wrap; gap: .4rem .9rem; align-items: center;
  padding: .5rem .75rem; background: var(--band); border-radius: 6px; font-size: .9rem;
}
.toggles label { display: inline-flex; align-items: center; gap: .3rem; cursor: pointer; }
.swatch { display: inline-block; width: .9rem; height: .9rem; border-radius: 2px; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .85rem; }
th, td {
  padding: .25rem .6rem; border-bottom: 1px solid var(--line);
  text-align: left; vertical-align: top;
}
th { background: var(--band); font-weight: 600; }
table.sortable thead th { cursor: pointer; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.off td { opacity: .35; }
div.off { opacity: .35; }
.scroll { overflow-x: auto; max-width: 100%; }
figure { margin: .8rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .85rem; }
svg.chart { width: 100%; max-width: 720px; height: auto; display: block; font-size: 11px; }
svg.chart .frame { fill: none; stroke: #9aa3b2; }
svg.chart .grid { stroke: #e6e9ef; }
svg.chart .tick, svg.chart .axis { fill: var(--muted); stroke: none; }
svg.chart .axis { font-size: 12px; }
svg.chart g.off { display: none; }
svg.chart circle { stroke: #fff; stroke-width: 1; }
svg.chart circle:hover { r: 6; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem 1rem; margin: .2rem 0 1rem 64px; }
.legend .key { display: inline-flex; align-items: center; gap: .3rem; font-size: .85rem; }
ul.flags { margin: .2rem 0 .8rem; padding-left: 1.2rem; }
.healthy { color: #2ca02c; }
.bad { color: #d62728; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
pre {
  background: var(--band); padding: .6rem .8rem; border-radius: 6px;
  white-space: pre-wrap; word-break: break-all;
}
.empty, .note { color: var(--muted); font-style: italic; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, .toggles input { display: none; }
  h2, h3, h4 { break-after: avoid; }
  table, figure, svg.chart { break-inside: avoid; }
  .scroll { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""

SCRIPT = """(function () {
  function show(key, on) {
    document.querySelectorAll('[data-run="' + key + '"]').forEach(function (el) {
      el.classList.toggle('off', !on);
    });
    document.querySelectorAll('input[data-toggle="' + key + '"]').forEach(function (box) {
      box.checked = on;
    });
  }
  document.querySelectorAll('input[data-toggle]').forEach(function (box) {
    box.addEventListener('change', function () {
      show(box.getAttribute('data-toggle'), box.checked);
    });
  });
  function key(row, column) {
    var cell = row.cells[column], value = cell.getAttribute('data-value');
    return value === null ? cell.textContent : parseFloat(value);
  }
  document.querySelectorAll('table.sortable thead th').forEach(function (th) {
    th.addEventListener('click', function () {
      var table = th.closest('table'), body = table.tBodies[0];
      var column = Array.prototype.indexOf.call(th.parentNode.children, th);
      var up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('thead th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, column), y = key(b, column);
        var d = typeof x === 'number' && typeof y === 'number'
          ? x - y : String(x).localeCompare(String(y));
        return up ? d : -d;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();"""


STYLE += "".join(
    f'.swatch[data-colour="{i}"] {{ background: {c}; }}\n' for i, c in enumerate(PALETTE)
)


def _csp() -> str:
    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    return (
        f"default-src 'none'; img-src data:; style-src 'sha256-{digest(STYLE)}'; "
        f"script-src 'sha256-{digest(SCRIPT)}'; base-uri 'none'; form-action 'none'"
    )


CSP = _csp()


# ----------------------------------------------------------------------------- values


def format_value(value: Any) -> str:
    """A value as the page shows it (unescaped): floats to 6 significant digits, ``None``
    as ``-``, booleans and other values as JSON."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list | tuple) and all(_scalar(v) for v in value):
        return ", ".join(format_value(v) for v in value)
    return json.dumps(value, default=str)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _plain(value: Any) -> Any:
    """numpy scalars and tuples (a store's rows) as Python values."""
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value


def flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, value)`` for every leaf of ``mapping``; a list of scalars is a leaf."""
    items: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            items += flatten(value, f"{name}.")
        else:
            items.append((name, value))
    return items


def _cell(key: str, value: Any) -> str:
    value = _plain(value)
    shown = escape(format_value(value))
    key_attr = escape(key)
    if isinstance(value, float):
        exact = escape(repr(value))
        return f'<td class="num" data-key="{key_attr}" data-value="{exact}" title="{exact}">{shown}</td>'  # noqa: E501
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num" data-key="{key_attr}" data-value="{value}">{shown}</td>'
    if value is None:
        return f'<td data-key="{key_attr}" title="null">{shown}</td>'
    return f'<td data-key="{key_attr}">{shown}</td>'


def _table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    runs: Sequence[int | None] | None = None,
    css: str = "",
) -> str:
    """A table of ``rows`` (flat dictionaries) in ``columns`` (default: every key, in the
    order first met); ``runs[i]`` is row i's toggle key."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        run = runs[i] if runs is not None else None
        attrs = f' data-run="{run}"' if run is not None else ""
        cells = "".join(_cell(c, row.get(c)) for c in columns)
        body.append(f"<tr{attrs}>{cells}</tr>")
    cls = f' class="sortable {css}"' if css else ' class="sortable"'
    return (
        f'<div class="scroll"><table{cls}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _key_values(items: Iterable[tuple[str, Any]], css: str = "config") -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th>{_cell(k, v)}</tr>" for k, v in items)
    return f'<div class="scroll"><table class="{css}"><tbody>{rows}</tbody></table></div>'


def _scalar_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The fields of a run shown in its table row: scalars, and nested objects flattened."""
    fields: dict[str, Any] = {}
    for key, value in record.items():
        value = _plain(value)
        if _scalar(value):
            fields[key] = value
        elif isinstance(value, dict):
            fields.update((k, v) for k, v in flatten(value, f"{key}.") if _scalar(_plain(v)))
    return fields


# ----------------------------------------------------------------------------- runs


class Runs:
    """The toggle keys and colours of the runs met in the page, one per distinct name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def key(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def toggles(self) -> str:
        if not self.names:
            return ""
        boxes = "".join(
            f'<label><input type="checkbox" checked data-toggle="{k}">'
            f'<span class="swatch" data-colour="{k % len(PALETTE)}"></span>{escape(name)}</label>'
            for k, name in enumerate(self.names)
        )
        return f'<div class="toggles" id="toggles"><strong>Runs</strong>{boxes}</div>'


def _run_name(run: dict[str, Any], index: int) -> str:
    for key in ("init", "name", "label"):
        if isinstance(run.get(key), str):
            return run[key]
    return f"run {index + 1}"


def _curve(costs: Any) -> tuple[list[float], list[float | None]] | None:
    """``(iterations, costs)`` from ``[{"iteration": i, "cost": c}, ...]`` or ``[c, ...]``."""
    if not isinstance(costs, list) or not costs:
        return None
    if all(isinstance(c, dict) for c in costs):
        xs = [c.get("iteration", c.get("update", i)) for i, c in enumerate(costs)]
        ys = [c.get("cost", c.get("loss")) for c in costs]
    else:
        xs, ys = list(range(len(costs))), list(costs)
    good = all(isinstance(x, int | float) for x in xs) and all(
        y is None or isinstance(y, int | float) for y in ys
    )
    return (xs, ys) if good else None


def _flags(run: dict[str, Any]) -> str:
    flags = run.get("flags")
    if not isinstance(flags, list):
        return ""
    if not flags:
        return '<ul class="flags"><li class="healthy">healthy: no flag</li></ul>'
    items = "".join(
        f'<li class="bad">{escape(str(f.get("message", f) if isinstance(f, dict) else f))}</li>'
        for f in flags
    )
    return f'<ul class="flags">{items}</ul>'


def _layers(run: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]] | None:
    """The per-layer rows of a run, with the theory's prediction (``predicted.NAME``, a
    list per layer) beside the measurement; and the names of the predicted columns."""
    layers = run.get("layers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        return None
    rows = [_scalar_fields(layer) for layer in layers]
    predicted = run.get("predicted")
    extra: list[str] = []
    if isinstance(predicted, dict):
        for name, values in predicted.items():
            if isinstance(values, list) and len(values) == len(rows):
                extra.append(f"predicted {name}")
                for row, value in zip(rows, values, strict=True):
                    row[f"predicted {name}"] = value
    return rows, extra


def _snapshot_rows(snapshots: Any) -> list[dict[str, Any]]:
    """One row per snapshot: its scalar fields, the number of flags and each layer's
    std of z."""
    if not isinstance(snapshots, list) or not all(isinstance(s, dict) for s in snapshots):
        return []
    rows = []
    for snapshot in snapshots:
        row = _scalar_fields(snapshot)
        if isinstance(snapshot.get("flags"), list):
            row["flags"] = len(snapshot["flags"])
        for i, layer in enumerate(snapshot.get("layers") or []):
            if isinstance(layer, dict) and "z_std" in layer:
                row[f"z_std layer {layer.get('layer', i + 1)}"] = layer["z_std"]
        rows.append(row)
    return rows


def _runs_section(runs: list[dict[str, Any]], registry: Runs, x_label: str) -> str:
    """A table of the runs' scalar fields, their cost curves, their snapshots of training,
    their flags and their per-layer statistics (what of these they have)."""
    names = [_run_name(run, i) for i, run in enumerate(runs)]
    keys = [registry.key(name) for name in names]
    out = ["<h3>Results</h3>"]
    rows = [_scalar_fields(run) for run in runs]
    out.append(_table(rows, runs=keys, css="results"))

    named = list(zip(runs, names, keys, strict=True))
    curves = [(_curve(run.get("costs")), name, k) for run, name, k in named]
    series = [Series(name, c[0], c[1], k, k) for c, name, k in curves if c is not None]
    if series:
        out.append("<h3>Cost curves</h3>")
        out.append(line_chart(series, title="Cost per iteration", x_label=x_label, y_label="cost"))

    snapshots = [(_curve(run.get("snapshots")), name, k) for run, name, k in named]
    series = [Series(name, c[0], c[1], k, k) for c, name, k in snapshots if c is not None]
    if series:
        out.append("<h3>Snapshots of training</h3>")
        title = "Loss at each snapshot"
        out.append(line_chart(series, title=title, x_label="update", y_label="loss"))
        for run, name, k in named:
            rows = _snapshot_rows(run.get("snapshots"))
            if rows:
                out.append(f'<div data-run="{k}"><h4>{escape(name)}</h4>')
                out.append(_table(rows, css="snapshots"))
                out.append("</div>")

    layer_tables = [(_layers(run), name, k) for run, name, k in named]
    if any(isinstance(run.get("flags"), list) for run in runs):
        out.append("<h3>Flags at initialization</h3>")
        for run, name, k in named:
            if isinstance(run.get("flags"), list):
                out.append(f'<div data-run="{k}"><h4>{escape(name)}</h4>{_flags(run)}</div>')

    std_series: list[Series] = []
    for layered, name, k in layer_tables:
        if layered is None:
            continue
        rows_, extra = layered
        xs = [row.get("layer", i + 1) for i, row in enumerate(rows_)]
        if "z_std" in (rows_[0] if rows_ else {}):
            std_series.append(Series(name, xs, [row.get("z_std") for row in rows_], k, k))
        if "predicted z_std" in extra:
            std_series.append(
                Series(
                    f"{name} (theory)", xs, [row["predicted z_std"] for row in rows_], k, k, True
                )
            )
    if any(layered for layered, _, _ in layer_tables):
        out.append("<h3>Per-layer statistics</h3>")
        if std_series and max(len(s.xs) for s in std_series) > 1:
            out.append(
                line_chart(
                    std_series,
                    title="Std of the pre-activations z per layer (dashed: theory)",
                    x_label="layer",
                    y_label="std of z",
                )
            )
        for layered, name, k in layer_tables:
            if layered is not None:
                out.append(f'<div data-run="{k}"><h4>{escape(name)}</h4>')
                out.append(_table(layered[0], css="layers"))
                out.append("</div>")
    return "\n".join(out)


def _curves_section(curves: dict[str, Any], registry: Runs, x_label: str, y_label: str) -> str:
    series: list[Series] = []
    for label, entry in curves.items():
        if not isinstance(entry, dict):
            continue
        k = registry.key(str(label))
        for part, dashed in (("measured", False), ("predicted", True)):
            values = entry.get(part)
            if isinstance(values, list) and values:
                name = str(label) if part == "measured" else f"{label} (predicted)"
                xs = (
                    list(range(1, len(values) + 1))
                    if x_label == "layer"
                    else list(range(len(values)))
                )
                series.append(Series(name, xs, values, k, k, dashed))
    if not series:
        return ""
    return "<h3>Curves</h3>" + line_chart(
        series, title="Measured (solid) and predicted (dashed)", x_label=x_label, y_label=y_label
    )


# ----------------------------------------------------------------------------- sections

RUN_LISTS = ("runs", "inits")
CONFIG_KEYS = ("config", "spec")
SKIPPED = ("provenance", "curves", "xlabel", "ylabel")


def _document_section(name: str, document: dict[str, Any], registry: Runs, anchor: str) -> str:
    title = document.get("experiment")
    heading = f"{escape(str(title))} <small>({escape(name)})</small>" if title else escape(name)
    out = [f'<section id="{anchor}"><h2>{heading}</h2>']
    top = [(k, v) for k, v in document.items() if _scalar(v) and k not in SKIPPED]
    if top:
        out.append(_key_values(top, css="summary"))
    x_label = str(document.get("xlabel") or "iteration")
    for key in RUN_LISTS:
        value = document.get(key)
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            out.append(_runs_section(value, registry, x_label))
    if isinstance(document.get("curves"), dict):
        out.append(
            _curves_section(
                document["curves"],
                registry,
                str(document.get("xlabel") or "layer"),
                str(document.get("ylabel") or "value"),
            )
        )
    for key, value in document.items():
        if key in RUN_LISTS or key in CONFIG_KEYS or key in SKIPPED:
            continue
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            rows = [_scalar_fields(r) for r in value]
            runs = [
                registry.key(r["init"]) if isinstance(r.get("init"), str) else None for r in value
            ]
            out.append(f"<h3>{escape(key.replace('_', ' ').capitalize())}</h3>")
            out.append(_table(rows, runs=runs, css=escape(key)))
    for key in CONFIG_KEYS:  # last: the results first
        if isinstance(document.get(key), dict):
            out.append(f"<h3>Configuration <small>({escape(key)})</small></h3>")
            out.append(_key_values(flatten(document[key])))
    out.append("</section>")
    return "\n".join(out)


STORE_COLUMNS_FIRST = (
    "init",
    "seed_index",
    "seed",
    "status",
    "final_cost",
    "train_accuracy",
    "test_accuracy",
)
STORE_HIDDEN = ("costs", "hash")


def _store_section(frame: Any, registry: Runs) -> str:
    """The stored runs of a comparison or sweep: per initialization the mean, median and
    range of each metric, the mean cost curve, and the runs themselves."""
    import numpy as np

    out = ['<section id="stored-runs"><h2>Stored runs <small>(runs.sqlite)</small></h2>']
    n = len(frame)
    out.append(f"<p>{n} run{'s' if n != 1 else ''} stored.</p>")
    group = "init" if "init" in frame.columns else None
    metrics = [m for m in ("final_cost", "train_accuracy", "test_accuracy") if m in frame.columns]
    if group and metrics and n:
        rows, keys = [], []
        for init, runs in frame.groupby(group, sort=False):
            row: dict[str, Any] = {"init": str(init), "runs": len(runs)}
            if "diverged" in runs:
                row["fraction diverged"] = float(np.mean(runs["diverged"].astype(bool)))
            for m in metrics:
                values = runs[m].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                if values.size:
                    row[f"{m} mean"] = float(values.mean())
                    row[f"{m} median"] = float(np.median(values))
                    row[f"{m} min"] = float(values.min())
                    row[f"{m} max"] = float(values.max())
            rows.append(row)
            keys.append(registry.key(str(init)))
        out.append("<h3>Statistics per initialization</h3>")
        out.append(_table(rows, runs=keys, css="store-stats"))
        if "costs" in frame.columns:
            series = []
            for row, k in zip(rows, keys, strict=True):
                curves = [c for c in frame[frame[group] == row["init"]]["costs"] if c is not None]
                if not curves or len({len(c) for c in curves}) != 1:
                    continue
                stacked = np.asarray(np.stack(curves), dtype=float)
                finite = np.isfinite(stacked)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(finite, stacked, 0).sum(0) / finite.sum(0)
                idx = np.unique(
                    np.linspace(0, len(mean) - 1, min(len(mean), MAX_CURVE_POINTS)).astype(int)
                )
                series.append(
                    Series(row["init"], idx.tolist(), [float(v) for v in mean[idx]], k, k)
                )
            if series:
                out.append("<h3>Mean cost curve per initialization</h3>")
                out.append(
                    line_chart(
                        series,
                        title="Mean cost over the stored runs",
                        x_label="update",
                        y_label="mean cost",
                    )
                )
    columns = [c for c in STORE_COLUMNS_FIRST if c in frame.columns]
    columns += [c for c in frame.columns if c not in columns and c not in STORE_HIDDEN]
    shown = frame.head(MAX_STORED_ROWS)
    records = [{c: _plain(row[c]) for c in columns} for row in shown.to_dict("records")]
    keys = [registry.key(str(r["init"])) if group else None for r in records]
    out.append("<h3>Runs</h3>")
    if n > MAX_STORED_ROWS:
        out.append(
            f'<p class="note">The first {MAX_STORED_ROWS} of {n} runs (all are in runs.sqlite).</p>'
        )
    out.append(_table(records, columns, runs=keys, css="stored"))
    out.append("</section>")
    return "\n".join(out)


def _figures_section(figures: dict[str, bytes], older: dict[str, str]) -> str:
    out = ['<section id="figures"><h2>Figures</h2>']
    for name, content in figures.items():
        data = base64.b64encode(content).decode("ascii")
        note = (
            f' <span class="note">(written before {escape(older[name])}: perhaps by an '
            "earlier run)</span>"
            if name in older
            else ""
        )
        out.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{escape(name)}">'
            f"<figcaption>{escape(name)}{note}</figcaption></figure>"
        )
    out.append("</section>")
    return "\n".join(out)


def _seeds(documents: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    seeds = []
    for name, document in documents.items():
        for key in CONFIG_KEYS:
            if isinstance(document.get(key), dict):
                for path, value in flatten(document[key]):
                    if "seed" in path.rsplit(".", 1)[-1] and _scalar(value):
                        seeds.append((f"{name}: {key}.{path}", value))
    return seeds


def _reproduce_section(sources: Sources) -> str:
    out = ['<section id="reproduce"><h2>Reproduce</h2>']
    recorded = [
        (name, doc["provenance"])
        for name, doc in sources.documents.items()
        if isinstance(doc.get("provenance"), dict)
    ]
    if not recorded:
        out.append(
            '<p class="note">These results do not record the command that made them; the '
            "configuration above holds every setting.</p>"
        )
    for name, prov in recorded:
        out.append(f"<h3>{escape(name)}</h3>")
        if isinstance(prov.get("command"), str):
            out.append(f'<pre class="command"><code>{escape(prov["command"])}</code></pre>')
        items = [(k, v) for k, v in prov.items() if k not in ("command", "argv", "packages")]
        packages = prov.get("packages")
        if isinstance(packages, dict):
            items += [(f"package {k}", v) for k, v in packages.items()]
        out.append(_key_values(items, css="provenance"))
    seeds = _seeds(sources.documents)
    if seeds:
        out.append("<h3>Seeds</h3>")
        out.append(_key_values(seeds, css="seeds"))
    out.append("</section>")
    return "\n".join(out)


def build_html(sources: Sources, title: str | None = None) -> str:
    """The page for ``sources`` (see the module for what it shows)."""
    registry = Runs()
    experiments = [
        str(doc["experiment"]) for doc in sources.documents.values() if "experiment" in doc
    ]
    heading = title or "initlab report" + (f": {', '.join(experiments)}" if experiments else "")
    sections, nav = [], []
    for i, (name, document) in enumerate(sources.documents.items()):
        anchor = f"doc-{i}"
        sections.append(_document_section(name, document, registry, anchor))
        nav.append((anchor, document.get("experiment") or name))
    if sources.figures:
        sections.append(_figures_section(sources.figures, sources.older))
        nav.append(("figures", "figures"))
    if sources.runs is not None:  # after the figures: it can be a long table
        sections.append(_store_section(sources.runs, registry))
        nav.append(("stored-runs", "stored runs"))
    sections.append(_reproduce_section(sources))
    nav.append(("reproduce", "reproduce"))
    if sources.problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in sources.problems)
        sections.append(f'<section id="problems"><h2>Not shown</h2><ul>{items}</ul></section>')
    links = "".join(f'<a href="#{a}">{escape(str(label))}</a>' for a, label in nav)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(heading)}</title>",
            f"<style>{STYLE}</style>",
            "</head><body>",
            f"<h1>{escape(heading)}</h1>",
            '<p class="lead">Hover a point of a chart for its value; untick a run to hide it; '
            "click a column's name to sort its table.</p>",
            f"<nav>{links}</nav>",
            registry.toggles(),
            *sections,
            f"<script>{SCRIPT}</script>",
            "</body></html>",
        ]
    )
