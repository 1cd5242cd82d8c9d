"""The page: one Bokeh document per browser tab, with its own controller and training thread.

The controller (:class:`Lab`) reads the form into a query (the same parser reads the
URL), starts a run on a worker thread and applies its progress on the document's
event loop (``add_next_tick_callback``, which Bokeh makes thread-safe); a new run
cancels the previous one, whose late updates are dropped by their run number. Tabs
share nothing but the server's :class:`~initlab.app.server.Shared` state (the
pre-trained course and the downloads, keyed by a random per-tab token).

Everything the user typed is shown through :func:`html.escape` (or as plain text).
"""

from __future__ import annotations

import base64
import binascii
import html
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (
    Button,
    Checkbox,
    ColumnDataSource,
    CustomJS,
    CustomJSTickFormatter,
    Div,
    FileInput,
    Legend,
    LegendItem,
    LinearColorMapper,
    Select,
    Slider,
    TextAreaInput,
    TextInput,
)
from bokeh.palettes import Category10
from bokeh.plotting import figure

from initlab.activations import activation_names
from initlab.app.config import UPLOAD, AppConfig
from initlab.app.record import results_bytes, results_document
from initlab.app.training import Outcome, Prepared, Progress, prepare, train
from initlab.app.upload import UPLOAD_LIMIT, load_upload
from initlab.app.views import (
    batch,
    boundary_grid,
    grid_extent,
    layer_histograms,
    snapshot_flags,
)
from initlab.datasets import DATASETS
from initlab.initializers import initializer_names
from initlab.optimizers import get_optimizer

if TYPE_CHECKING:
    from bokeh.document import Document

    from initlab.app.server import Shared

__all__ = ["Lab", "make_document"]

COLOURS = Category10[10]
#: the cost chart shows at most this many points per run
COST_POINTS = 1500
SIDEBAR = 300
#: the page shows a run's progress at most every this many seconds
REFRESH = 0.15


def _blend(a: str, b: str, t: float) -> str:
    ca = [int(a[k : k + 2], 16) for k in (1, 3, 5)]
    cb = [int(b[k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


#: P(class 1) from 0 (class 0's colour) through white (0.5) to 1 (class 1's colour)
TWO_CLASSES = [_blend(COLOURS[0], "#ffffff", k / 10) for k in range(10)] + [
    _blend("#ffffff", COLOURS[1], k / 10) for k in range(1, 11)
]


def _div(**kwargs: Any) -> Div:
    """A Div whose text is never read as TeX (no MathJax is served)."""
    return Div(disable_math=True, **kwargs)


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _split_dataset(spec: str) -> tuple[str, str]:
    """``"moons(noise=0.2)"`` -> ``("moons", "noise=0.2")``."""
    spec = spec.strip()
    if spec.endswith(")") and "(" in spec:
        name, _, rest = spec.partition("(")
        return name.strip(), rest[:-1].strip()
    return spec, ""


def _message(kind: str, text: str) -> str:
    colour = {"error": "#b00020", "info": "#333", "ok": "#1b5e20"}[kind]
    return f'<div class="initlab-{kind}" style="color:{colour}">{html.escape(text)}</div>'


@dataclass
class View:
    """What the worker computed for the page at one snapshot (boundaries per model)."""

    snapshot: int | None
    grids: list[Any] = field(default_factory=list)


class Lab:
    """The controller of one tab."""

    def __init__(self, doc: Document, shared: Shared, query: dict[str, list[bytes]]) -> None:
        self.doc, self.shared = doc, shared
        self.token = shared.new_token()
        self.run_id = 0
        self.cancel = threading.Event()
        self.outcome: Outcome | None = None
        self.progress_outcome: Outcome | None = None
        self.prepared: Prepared | None = None
        self.upload: tuple[bytes, str] | None = None
        self._pending: tuple[int, Progress, View] | None = None
        self._lock = threading.Lock()
        self._quiet = False
        self._applied = 0.0
        #: the newest run that finished (its late progress is dropped)
        self.finished = 0
        self.extent: tuple[float, float, float, float] | None = None
        self.boundary_sources: list[ColumnDataSource] = []
        self.hist_sources: list[ColumnDataSource] = []
        self._build_form()
        self._build_charts()
        self.doc.title = "initlab app"
        self.doc.add_root(row(self.sidebar, self.main))
        self.doc.on_session_destroyed(lambda _ctx: self.close())
        # the first run starts once the session exists (a worker posting to a document
        # that has no session yet could lose its callbacks)
        self.doc.add_next_tick_callback(partial(self._load, query))

    # -- the form --------------------------------------------------------------

    def _build_form(self) -> None:
        names = [n for n in DATASETS if DATASETS[n].kind != "file"] + [UPLOAD]
        w = SIDEBAR - 20
        self.w_dataset = Select(title="Dataset", options=names, value="course_circles", width=w)
        self.w_params = TextInput(
            title="Dataset parameters", placeholder="e.g. noise=0.2, samples=500", width=w
        )
        self.w_file = FileInput(
            title=f"CSV file (at most {UPLOAD_LIMIT // 1024} KiB)",
            accept=".csv,text/csv,text/plain", width=w,
        )  # fmt: skip
        self.w_label = TextInput(title="Label column (CSV)", value="label", width=w)
        self.w_upload = _div(text="", width=w)
        self.w_standardize = Checkbox(label="standardize features", active=False)
        self.w_hidden = TextInput(title="Hidden widths (depth = how many)", value="10, 5", width=w)
        self.w_activation = Select(
            title="Activation", options=activation_names(), value="relu", width=w
        )
        self.w_inits = TextAreaInput(
            title="Initializers (one spec per line)", value="zeros\nrandom\nhe", rows=4, width=w
        )
        self.w_catalogue = Select(
            title="Catalogue", options=initializer_names(), value="he", width=w - 70
        )
        self.w_add = Button(label="Add", width=60, align="end")
        self.w_bias = TextInput(title="Bias initializer", value="zeros", width=w)
        self.w_optimizer = TextInput(
            title="Optimizer (gd, sgd, momentum, adam)", value="gd", width=w
        )
        self.w_lr = TextInput(title="Learning rate", value="0.01", width=w)
        self.w_iterations = TextInput(title="Iterations", value="15000", width=w)
        self.w_seed = TextInput(title="Seed", value="3", width=w)
        self.w_train = Button(label="Train", button_type="primary", width=120)
        self.w_stop = Button(label="Stop", width=80)
        self.w_status = _div(text="", width=w, css_classes=["initlab-status"])
        self.w_links = _div(text="", width=w, css_classes=["initlab-links"])
        # the address bar follows the configuration: the URL reproduces the run
        self.w_url = _div(text="", visible=False)
        self.w_url.js_on_change(
            "text",
            CustomJS(code="window.history.replaceState(null, '', '?' + cb_obj.text);"),
        )
        self.w_add.on_click(self._on_add)
        self.w_train.on_click(self._on_train)
        self.w_stop.on_click(self._on_stop)
        self.w_file.on_change("value", self._on_upload)
        self.sidebar = column(
            _div(text="<b>initlab</b>: how initialization shapes training", width=w),
            self.w_dataset, self.w_params, self.w_file, self.w_label, self.w_upload,
            self.w_standardize, self.w_hidden, self.w_activation, self.w_inits,
            row(self.w_catalogue, self.w_add), self.w_bias, self.w_optimizer, self.w_lr,
            self.w_iterations, self.w_seed, row(self.w_train, self.w_stop), self.w_status,
            self.w_links, self.w_url, width=SIDEBAR,
        )  # fmt: skip

    def form(self) -> dict[str, list[str]]:
        """The form as a URL query (what :meth:`AppConfig.from_query` reads)."""
        name, params = self.w_dataset.value.strip(), self.w_params.value.strip()
        query = {
            "dataset": [f"{name}({params})" if params else name],
            "hidden": [self.w_hidden.value],
            "activation": [self.w_activation.value],
            "init": [self.w_inits.value],
            "bias": [self.w_bias.value],
            "optimizer": [self.w_optimizer.value],
            "lr": [self.w_lr.value],
            "iterations": [self.w_iterations.value],
            "seed": [self.w_seed.value],
            "standardize": ["true" if self.w_standardize.active else "false"],
        }
        if name == UPLOAD:
            query["label"] = [self.w_label.value]
        return query

    def set_form(self, query: dict[str, list[str]]) -> None:
        """Fill the form from a URL query, as given (checked when read back)."""

        def one(key: str) -> str | None:
            values = query.get(key)
            return values[0] if values else None

        if (text := one("dataset")) is not None:
            name, params = _split_dataset(text)
            if name not in self.w_dataset.options:
                self.w_dataset.options = [*self.w_dataset.options, name]
            self.w_dataset.value, self.w_params.value = name, params
        if (text := one("activation")) is not None:
            if text not in self.w_activation.options:
                self.w_activation.options = [*self.w_activation.options, text]
            self.w_activation.value = text
        if "init" in query:
            self.w_inits.value = "\n".join(query["init"])
        for key, widget in (
            ("label", self.w_label), ("hidden", self.w_hidden), ("bias", self.w_bias),
            ("optimizer", self.w_optimizer), ("lr", self.w_lr),
            ("iterations", self.w_iterations), ("seed", self.w_seed),
        ):  # fmt: skip
            if (text := one(key)) is not None:
                widget.value = text
        if (text := one("standardize")) is not None:
            self.w_standardize.active = text.strip().lower() in ("1", "true", "yes", "on")

    # -- the charts ------------------------------------------------------------

    def _build_charts(self) -> None:
        self.cost_figure = figure(
            title="Cost (cross-entropy) per iteration", width=640, height=300,
            y_axis_type="log", x_axis_label="iteration", y_axis_label="cost",
            tools="pan,wheel_zoom,box_zoom,reset,save,hover",
            tooltips=[("init", "@name"), ("iteration", "@x"), ("cost", "@y")],
        )  # fmt: skip
        self.cost_sources: list[ColumnDataSource] = []
        self._cost_pool: list[tuple[Any, ColumnDataSource]] = []
        self.cost_legend = Legend(items=[], click_policy="hide", location="top_right")
        self.cost_figure.add_layout(self.cost_legend)
        self._boundary_pool: list[tuple[Any, ColumnDataSource]] = []
        self.boundary_mapper = LinearColorMapper(palette=TWO_CLASSES, low=0, high=1)
        self.boundary_points = ColumnDataSource({"x": [], "y": [], "c": []})
        self._hist_pool: dict[str, list[tuple[Any, ColumnDataSource]]] = {
            "activations": [],
            "gradients": [],
        }
        self.w_results = _div(text="", width=640, css_classes=["initlab-results"])
        self.boundary_box = row(children=[])
        #: the slider's value is a snapshot's index; it shows that snapshot's iteration
        self.snapshot_format = CustomJSTickFormatter(
            args={"at": []},
            code="return at[tick] === undefined ? String(tick) : 'iteration ' + at[tick];",
        )
        self.w_snapshot = Slider(
            title="Snapshot", start=0, end=1, step=1, value=0, width=400,
            format=self.snapshot_format,
        )  # fmt: skip
        self.w_snapshot.on_change("value", lambda _a, _o, _n: self._show_snapshot())
        self.w_model = Select(title="Histograms of", options=[], width=200)
        self.w_model.on_change("value", lambda _a, _o, _n: self._show_snapshot())
        self.histogram_box = column(children=[])
        self.w_flags = _div(text="", width=900, css_classes=["initlab-flags"])
        # the figures of the course (3 runs, 3 layers), built with the page: the browser
        # then builds them once, with the page, rather than when the first run begins
        self._cost_lines(3)
        self._boundary_pool = [self._boundary_figure() for _ in range(3)]
        self.boundary_box.children = [p for p, _s in self._boundary_pool]
        for kind in ("activations", "gradients"):
            for _ in range(3):
                self._hist_pool[kind].append(self._histogram_figure(kind))
        self.histogram_box.children = [
            row([p for p, _s in self._hist_pool[kind]]) for kind in ("activations", "gradients")
        ]
        self.main = column(
            self.cost_figure, self.w_results,
            _div(text="<b>Decision boundaries</b> (training points; background: the model's "
                "output)"),
            self.boundary_box,
            _div(text="<b>Per layer</b>: activations a[l] on the training batch (top) and "
                "the weight gradients dJ/dW[l] (bottom)"),
            row(self.w_snapshot, self.w_model), self.histogram_box,
            _div(text="<b>Flags</b> at this snapshot"), self.w_flags,
        )  # fmt: skip

    def _reset_charts(self, prepared: Prepared) -> None:
        """Empty charts for ``prepared``'s models, layers and data. Figures are kept from
        run to run and only added when a run needs more (building one takes a while,
        in the server and in the browser)."""
        names = prepared.config.inits
        self._cost_lines(len(names))
        self.cost_sources = [source for _r, source in self._cost_pool[: len(names)]]
        for renderer, source in self._cost_pool[: len(names)]:
            source.data = {"x": [], "y": [], "name": []}
            renderer.visible = True
        for renderer, _source in self._cost_pool[len(names) :]:
            renderer.visible = False
        self.cost_legend.items = [
            LegendItem(label=name, renderers=[renderer])
            for (renderer, _s), name in zip(self._cost_pool, names, strict=False)
        ]
        data = prepared.dataset
        self.extent = None
        self.boundary_sources = []
        if data.X_train.shape[0] == 2:
            self.extent = grid_extent(data.X_train)
            x0, x1, y0, y1 = self.extent
            k = data.n_classes
            if prepared.network.output == "softmax":
                self.boundary_mapper.update(
                    palette=list(Category10[max(3, min(10, k))])[:k], low=-0.5, high=k - 0.5
                )
            else:
                self.boundary_mapper.update(palette=TWO_CLASSES, low=0, high=1)
            Xb, Yb = batch(data.X_train, data.Y_train)
            self.boundary_points.data = {
                "x": Xb[0], "y": Xb[1], "c": [COLOURS[int(c) % 10] for c in Yb[0]],
            }  # fmt: skip
            while len(self._boundary_pool) < len(names):
                self._boundary_pool.append(self._boundary_figure())
            for (p, source), name in zip(self._boundary_pool, names, strict=False):
                p.title.text = name
                p.x_range.update(start=x0, end=x1)
                p.y_range.update(start=y0, end=y1)
                source.data = {"image": [np.full((2, 2), np.nan)], "x": [x0], "y": [y0],
                               "dw": [x1 - x0], "dh": [y1 - y0]}  # fmt: skip
                self.boundary_sources.append(source)
            self.boundary_box.children = [p for p, _s in self._boundary_pool[: len(names)]]
        else:
            self.boundary_box.children = [
                _div(text=f"(the data has {data.X_train.shape[0]} features: "
                    "decision boundaries are drawn for 2-D data)")
            ]  # fmt: skip
        depth = prepared.network.depth
        for kind in ("activations", "gradients"):
            pool = self._hist_pool[kind]
            while len(pool) < depth:
                pool.append(self._histogram_figure(kind))
        self.hist_sources = [
            source
            for kind in ("activations", "gradients")
            for _p, source in self._hist_pool[kind][:depth]
        ]
        for source in self.hist_sources:
            source.data = {"left": [], "right": [], "top": []}
        rows = [
            row([p for p, _s in self._hist_pool[kind][:depth]])
            for kind in ("activations", "gradients")
        ]
        if [list(r.children) for r in rows] != [
            list(r.children) for r in self.histogram_box.children
        ]:
            self.histogram_box.children = rows
        self.w_model.options = list(names)
        self.w_model.value = names[-1]
        self.w_snapshot.update(start=0, end=1, value=0, disabled=True)
        self.w_flags.text = ""
        self.w_results.text = ""

    def _cost_lines(self, n: int) -> None:
        while len(self._cost_pool) < n:
            source = ColumnDataSource({"x": [], "y": [], "name": []})
            i = len(self._cost_pool)
            renderer = self.cost_figure.line(
                "x", "y", source=source, color=_colour(i), line_width=2
            )
            self._cost_pool.append((renderer, source))

    def _boundary_figure(self) -> tuple[Any, ColumnDataSource]:
        p = figure(width=260, height=260, x_range=(0, 1), y_range=(0, 1),
                   tools="pan,wheel_zoom,reset,save")  # fmt: skip
        source = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        p.image("image", x="x", y="y", dw="dw", dh="dh", source=source,
                color_mapper=self.boundary_mapper, alpha=0.6)  # fmt: skip
        p.scatter("x", "y", color="c", source=self.boundary_points, size=4,
                  line_color="black", line_width=0.3)  # fmt: skip
        return p, source

    def _histogram_figure(self, kind: str) -> tuple[Any, ColumnDataSource]:
        l = len(self._hist_pool[kind]) + 1
        label = f"a[{l}]" if kind == "activations" else f"dJ/dW[{l}]"
        tips = [("from", "@left"), ("to", "@right"), ("count", "@top")]
        p = figure(title=label, width=180, height=150, tools="hover,save", tooltips=tips)
        source = ColumnDataSource({"left": [], "right": [], "top": []})
        p.quad(left="left", right="right", top="top", bottom=0, source=source,
               color="#4c72b0" if kind == "activations" else "#dd8452")  # fmt: skip
        p.yaxis.visible = False
        p.xaxis.ticker.desired_num_ticks = 3
        return p, source

    # -- running -----------------------------------------------------------------

    def _load(self, query: dict[str, list[bytes]]) -> None:
        texts = {
            k: [v.decode("utf-8", "replace") for v in vs]
            for k, vs in query.items()
            if not k.startswith("bokeh-")
        }
        self.set_form(texts)
        try:
            config = AppConfig.from_query(texts, allow_custom_code=self.shared.allow_custom_code)
        except ValueError as exc:
            self.w_status.text = _message("error", f"the URL's configuration: {exc}")
            return
        if config.uploaded:
            self.w_status.text = _message("info", "upload the CSV file, then press Train")
            return
        self.start(config)

    def _on_add(self) -> None:
        lines = [line for line in self.w_inits.value.splitlines() if line.strip()]
        self.w_inits.value = "\n".join([*lines, self.w_catalogue.value])

    def _on_stop(self) -> None:
        self.cancel.set()

    def _on_upload(self, _attr: str, _old: Any, _new: Any) -> None:
        # the file's name comes in the same message, after its content: read both next
        self.doc.add_next_tick_callback(self._read_upload)

    def _read_upload(self) -> None:
        try:
            name, new = str(self.w_file.filename or "upload.csv"), str(self.w_file.value)
        except Exception:  # not set (yet)
            return
        self.upload = None
        if len(new) * 3 // 4 > UPLOAD_LIMIT + 3:
            self.w_upload.text = _message(
                "error", f"{name!r} is too large: uploads are limited to {UPLOAD_LIMIT:,} bytes"
            )
            return
        try:
            content = base64.b64decode(new, validate=True)
        except (binascii.Error, ValueError):
            self.w_upload.text = _message("error", f"{name!r} could not be read")
            return
        try:
            data = load_upload(content, name, self.w_label.value.strip())
        except ValueError as exc:
            self.w_upload.text = _message("error", str(exc))
            return
        self.upload = (content, name)
        self.w_dataset.value = UPLOAD
        self.w_upload.text = _message(
            "ok",
            f"{name}: {data.X_train.shape[1] + data.X_test.shape[1]} rows, "
            f"{data.X_train.shape[0]} features, {data.n_classes} classes",
        )

    def _on_train(self) -> None:
        try:
            config = AppConfig.from_query(
                self.form(), allow_custom_code=self.shared.allow_custom_code
            )
        except ValueError as exc:
            self.w_status.text = _message("error", str(exc))
            return
        self.start(config)

    def start(self, config: AppConfig) -> None:
        """Cancel the running training (if any) and start ``config``'s."""
        self.cancel.set()
        self.run_id += 1
        self.cancel = threading.Event()
        dataset = None
        if config.uploaded:
            if self.upload is None:
                self.w_status.text = _message("error", "upload a CSV file first")
                return
            content, name = self.upload
            try:
                dataset = load_upload(
                    content, name, config.label, seed=config.seed, standardize=config.standardize
                )
            except ValueError as exc:
                self.w_status.text = _message("error", str(exc))
                return
        self.w_url.text = config.query()
        self.w_status.text = _message("info", "preparing...")
        self.w_links.text = ""
        worker = threading.Thread(
            target=self._work, args=(self.run_id, config, dataset, self.cancel),
            name=f"initlab-app-run-{self.run_id}", daemon=True,
        )  # fmt: skip
        worker.start()

    def close(self) -> None:
        """The tab is gone: stop its training and forget its downloads."""
        self.cancel.set()
        self.shared.forget(self.token)

    def _post(self, fn: Any, *args: Any) -> None:
        try:
            self.doc.add_next_tick_callback(partial(fn, *args))
        except Exception:  # the session is gone
            self.cancel.set()

    def _work(self, run_id: int, config: AppConfig, dataset: Any, cancel: threading.Event) -> None:
        try:
            cached = None if config.uploaded else self.shared.cached(config)
            if cached is not None:
                outcome = cached.result()
                self._post(self._begin, run_id, outcome.prepared)
            else:
                prepared = prepare(config, dataset)
                self._post(self._begin, run_id, prepared)
                outcome = train(
                    prepared, cancel=cancel,
                    on_progress=lambda p: self._progress(run_id, prepared, p),
                )  # fmt: skip
            if cancel.is_set() and run_id != self.run_id:
                return
            source = self.upload[1] if config.uploaded and self.upload else None
            document = results_bytes(results_document(outcome, source=source))
            self._post(self._finish, run_id, outcome, document)
        except Exception as exc:  # a bad spec or data: say it in the page
            self._post(self._fail, run_id, exc)

    def _progress(self, run_id: int, prepared: Prepared, progress: Progress) -> None:
        """On the worker: compute the newest snapshot's boundaries, hand the progress over
        (only the newest is kept while the page is busy)."""
        extent = (
            grid_extent(prepared.dataset.X_train)
            if prepared.dataset.X_train.shape[0] == 2
            else None
        )
        grids = []
        if extent is not None:
            grids = [boundary_grid(prepared.network, p, extent) for p in progress.params]
        with self._lock:
            first = self._pending is None
            self._pending = (run_id, progress, View(progress.snapshot, grids))
        if first:
            self._post(self._apply_soon)

    def _apply_soon(self) -> None:
        """Apply the newest progress now, or when :data:`REFRESH` has passed since the
        last (the browser redraws every chart a progress touches)."""
        wait = REFRESH - (time.monotonic() - self._applied)
        if wait > 0:
            self.doc.add_timeout_callback(self._apply_pending, int(wait * 1000))
        else:
            self._apply_pending()

    # -- on the document's loop ----------------------------------------------------

    def _begin(self, run_id: int, prepared: Prepared) -> None:
        if run_id != self.run_id:
            return
        self.prepared = prepared
        self.outcome = None
        self._reset_charts(prepared)
        self.w_status.text = _message("info", "training...")

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        run_id, progress, view = pending
        if run_id != self.run_id or self.finished == run_id or self.prepared is None:
            return
        self._applied = time.monotonic()
        self._show_costs(progress.costs)
        for source, grid in zip(self.boundary_sources, view.grids, strict=False):
            source.data = {"image": [grid.values], "x": [grid.x0], "y": [grid.y0],
                           "dw": [grid.dw], "dh": [grid.dh]}  # fmt: skip
        if view.snapshot is not None and progress.outcome is not None:
            following = self.w_snapshot.value >= self.w_snapshot.end or self.outcome is None
            self.outcome = progress.outcome
            self._slide(view.snapshot, following, draw_boundaries=False)
        self.w_status.text = _message(
            "info", f"training: iteration {progress.done} of {progress.total}"
        )

    def _show_costs(self, costs: np.ndarray) -> None:
        names = self.prepared.config.inits if self.prepared else ()
        done = costs.shape[1]
        stride = max(1, -(-done // COST_POINTS))
        x = np.arange(0, done, stride)
        if done and x[-1] != done - 1:
            x = np.append(x, done - 1)
        for i, source in enumerate(self.cost_sources):
            y = costs[i, x] if done else np.empty(0)
            source.data = {"x": x, "y": y, "name": [names[i]] * len(x)}

    def _finish(self, run_id: int, outcome: Outcome, document: bytes) -> None:
        if run_id != self.run_id:
            return
        self.shared.store(self.token, document, outcome)  # the tab's downloads: this run
        with self._lock:
            self.finished, self._pending = run_id, None
        self.outcome = outcome
        prepared = outcome.prepared
        if self.prepared is not prepared:
            self.prepared = prepared
            self._reset_charts(prepared)
        self._show_costs(outcome.costs[:, : outcome.done])
        self._slide(len(outcome.snapshot_at) - 1, True)
        self._show_results(outcome)
        state = f"stopped at iteration {outcome.done}" if outcome.cancelled else "done"
        engine = f" ({outcome.backend} engine)" if outcome.backend else ""
        self.w_status.text = _message("ok", f"{state}: {outcome.done} iterations{engine}")
        self.w_links.text = (
            f'<a href="?{html.escape(prepared.config.query())}">link to this configuration</a>'
            f' · download <a href="download/{self.token}/results.json" download="results.json">'
            f'results.json</a> · <a href="download/{self.token}/report.html" '
            'download="report.html">report.html</a>'
        )

    def _fail(self, run_id: int, exc: BaseException) -> None:
        if run_id != self.run_id:
            return
        self.w_status.text = _message("error", " ".join(str(exc).split()) or repr(exc))

    def _show_results(self, outcome: Outcome) -> None:
        rows = []
        for i, name in enumerate(outcome.names):
            s = outcome.scores(i)

            def cell(value: Any, digits: int = 4) -> str:
                return "-" if value is None else f"{value:.{digits}g}"

            rows.append(
                f'<tr data-init="{html.escape(name)}"><td style="color:{_colour(i)}">'
                f"{html.escape(name)}</td>"
                f'<td class="train">{cell(s["train_accuracy"])}</td>'
                f'<td class="test">{cell(s["test_accuracy"])}</td>'
                f"<td>{cell(s['final_cost'], 6)}</td><td>{html.escape(str(s['status']))}</td></tr>"
            )
        self.w_results.text = (
            '<table class="initlab-results-table" style="border-collapse:collapse">'
            "<tr><th>init</th><th>train acc.</th><th>test acc.</th><th>final cost</th>"
            "<th>status</th></tr>" + "".join(rows) + "</table>"
        )

    def _slide(self, last: int, following: bool, draw_boundaries: bool = True) -> None:
        """The slider over snapshots ``0..last``; at ``last`` if ``following``."""
        self._quiet = True
        try:
            value = last if following else min(int(self.w_snapshot.value), last)
            outcome = self.outcome
            at = list(outcome.snapshot_at[: last + 1]) if outcome is not None else []
            if at != self.snapshot_format.args.get("at"):
                self.snapshot_format.args = {"at": at}
            self.w_snapshot.update(start=0, end=max(1, last), value=value, disabled=last < 1)
        finally:
            self._quiet = False
        self._show_snapshot(draw_boundaries)

    def _show_snapshot(self, draw_boundaries: bool = True) -> None:
        """Histograms of the chosen model and every model's flags at the slider's snapshot."""
        outcome = self.outcome
        if self._quiet or outcome is None or self.w_model.value not in outcome.names:
            return
        if not outcome.snapshots:
            return
        k = min(int(self.w_snapshot.value), len(outcome.snapshots) - 1)
        prepared = outcome.prepared
        network, data = prepared.network, prepared.dataset
        X, Y = batch(data.X_train, data.Y_train)
        i = outcome.names.index(self.w_model.value)
        params = outcome.snapshots[k][i]
        hists = layer_histograms(network, params, X, Y)
        sources = self.hist_sources
        depth = len(hists)
        for l, h in enumerate(hists):
            for source, hist in ((sources[l], h.activations), (sources[depth + l], h.gradients)):
                source.data = {"left": hist.edges[:-1], "right": hist.edges[1:],
                               "top": hist.counts}  # fmt: skip
        for source, grid in zip(
            self.boundary_sources,
            [boundary_grid(network, p, self.extent) for p in outcome.snapshots[k]]
            if self.extent is not None and draw_boundaries
            else [],
            strict=False,
        ):
            source.data = {"image": [grid.values], "x": [grid.x0], "y": [grid.y0],
                           "dw": [grid.dw], "dh": [grid.dh]}  # fmt: skip
        optimizer = get_optimizer(prepared.config.optimizer, prepared.config.learning_rate)
        rate = prepared.config.learning_rate if type(optimizer).full_batch else None
        parts = []
        for j, name in enumerate(outcome.names):
            try:
                flags = snapshot_flags(network, outcome.snapshots[k][j], X, Y, rate)
            except ValueError as exc:
                flags = [str(exc)]
            items = "".join(f"<li>{html.escape(f)}</li>" for f in flags) or "<li>no flags</li>"
            parts.append(f"<b>{html.escape(name)}</b><ul>{items}</ul>")
        self.w_flags.text = "".join(parts)


def make_document(shared: Shared, doc: Document) -> None:
    """Bokeh's function handler: build the page of a new tab."""
    request = doc.session_context.request if doc.session_context else None
    query = dict(request.arguments) if request is not None else {}
    Lab(doc, shared, {k: v for k, v in query.items() if not k.startswith("bokeh-")})
