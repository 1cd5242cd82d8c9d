"""``GridSearchCV`` over initializations, training candidates together as one population.

:class:`InitGridSearchCV` is scikit-learn's ``GridSearchCV`` (same constructor, same
``cv_results_``, ``best_*``, ``refit``) for an :class:`~initlab.sklearn.InitMLPClassifier`.
On every cross-validation split, the candidates whose networks would be trained
alike by the compiled engine (same architecture, activations, optimizer and its
hyper-parameters, batch size and epochs) are
trained as ONE population by :func:`initlab.engine.population.train_population`:
what varies from model to model is what a population can vary, the initial
parameters (``init``, ``bias_init``, and ``random_state``'s initialization seed) and
the step size ``learning_rate_init``. Each model is drawn and trained exactly as
``InitMLPClassifier(**params).fit(X_train, y_train)`` draws and trains it (the same
code: :meth:`InitMLPClassifier._plan`), so the scores are the ones ``GridSearchCV``
gets, only sooner. The rest (a candidate alone in its group, a network the
compiled engine does not take) is fitted one candidate after the other, as
``GridSearchCV`` does.

The minibatch order comes from ``random_state`` too (its second seed): the engine
shuffles each model of a population by its own generator, so candidates with
different ``random_state`` share a population, with minibatches or without.
"""

from __future__ import annotations

import numbers
import time
import traceback
import warnings
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from sklearn.model_selection._validation import _warn_or_raise_about_fit_failures
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, indexable

from initlab.engine.population import usable_cores
from initlab.sklearn import InitMLPClassifier, _Plan, _train_one, on_engine

__all__ = ["InitGridSearchCV"]


@dataclass
class _Candidate:
    """One candidate on one split: its estimator, its plan and what it cost so far."""

    estimator: Any  # what is scored: the classifier, or the pipeline ending with it
    model: InitMLPClassifier
    plan: _Plan
    fit_time: float = 0.0
    error: str | None = None


class InitGridSearchCV(GridSearchCV):
    """``GridSearchCV`` for :class:`~initlab.sklearn.InitMLPClassifier` that trains the
    candidates of every split which differ only in ``init``, ``bias_init``,
    ``random_state`` or ``learning_rate_init`` as one population on the compiled engine.

    The constructor, ``fit``'s results (``cv_results_`` with the same keys, ``best_index_``,
    ``best_params_``, ``best_score_``, ``best_estimator_`` refitted on all the data,
    ``refit_time_``, ``n_splits_``, ``scorer_``, ``multimetric_``) and the other methods
    are ``GridSearchCV``'s. ``scoring`` is ``None`` (the estimator's accuracy), a scorer
    name or a callable ``scorer(estimator, X, y)`` returning a number; ``cv`` an int,
    a splitter or an iterable of splits; ``refit`` a bool or a callable.

    Differences, by design:

    - The estimator is an ``InitMLPClassifier`` or a ``Pipeline`` ending with one whose
      grid holds only that last step's parameters: the steps before it are then
      fitted once per split (as each candidate's pipeline would fit them: identical
      unless a step draws at random without a fixed ``random_state``) and shared.
    - ``fit`` is ``GridSearchCV.fit`` itself, unchanged and without populations, for
      any other estimator (or a pipeline's grid over its other steps), ``scoring``
      is multi-metric (a list, tuple or dict), ``n_jobs`` is not ``None`` or ``1`` (the
      population engine uses the cores through its own threads), fit parameters other
      than ``groups`` are given, or metadata routing is enabled.
    - Every candidate is checked on each split before anything is trained on it, as
      its own ``fit`` checks it: a bad hyper-parameter in the grid (an unknown
      initializer, a ``batch_size`` refused by ``"gd"``) raises the estimator's own
      ``ValueError`` at once, whatever ``error_score`` (``GridSearchCV`` would
      record a failed fit). A failure while training follows ``error_score``.
    - ``mean_fit_time`` of a candidate trained in a population is its share of the
      population's time (the population's training time divided by its size, plus
      its own drawing and finishing); ``verbose`` prints only the first line.
    - Each model equals its own ``fit`` in the engine's arithmetic; when the engine
      splits one model's minibatch over several threads (a lone model whose batch
      has more than one chunk of samples), sums run in another order, so the two
      agree to rounding rather than bit for bit.

    Example::

        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler
        from initlab.sklearn import InitGridSearchCV, InitMLPClassifier

        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        search = InitGridSearchCV(
            InitMLPClassifier(hidden_layer_sizes=(64,), batch_size=32, max_iter=5),
            {"init": ["zeros", "lecun_normal", "he"], "random_state": [0, 1, 2]},
            cv=3,
        )
        search.fit(X, y)
        search.best_params_
    """

    def fit(self, X: Any, y: Any = None, **params: Any) -> InitGridSearchCV:
        """Run the search (see the class); return ``self``."""
        if self._delegated(params):
            return super().fit(X, y, **params)
        self._validate_params()
        scorer = self.scoring if callable(self.scoring) else check_scoring(
            self.estimator, self.scoring
        )  # fmt: skip
        X, y = indexable(X, y)
        groups = params.get("groups")
        cv = check_cv(self.cv, y, classifier=True)
        self.n_splits_ = cv.get_n_splits(X, y, groups)
        splits = list(cv.split(X, y, groups))
        if len(splits) != self.n_splits_:
            raise ValueError(
                f"cv.split and cv.get_n_splits return inconsistent results. "
                f"Expected {self.n_splits_} splits, got {len(splits)}"
            )
        candidates = list(ParameterGrid(self.param_grid))
        if not candidates or not splits:
            raise ValueError(
                "No fits were performed. Was the CV iterator empty? Were there no candidates?"
            )
        if self.verbose > 0:
            print(
                f"Fitting {self.n_splits_} folds for each of {len(candidates)} candidates, "
                f"totalling {len(candidates) * self.n_splits_} fits"
            )
        base = clone(self.estimator)
        out: list[list[dict[str, Any]]] = [[] for _ in candidates]
        for train, test in splits:
            data = (
                _safe_indexing(X, train),
                _safe_indexing(y, train),
                _safe_indexing(X, test),
                _safe_indexing(y, test),
            )
            for i, result in enumerate(self._evaluate_split(base, candidates, scorer, *data)):
                out[i].append(result)
        flat = [result for row in out for result in row]  # candidate-major, as GridSearchCV
        _warn_or_raise_about_fit_failures(flat, self.error_score)
        results = self._format_results(candidates, self.n_splits_, flat)
        self.multimetric_ = False
        self.best_index_ = self._select_best_index(self.refit, "score", results)
        if not callable(self.refit):
            self.best_score_ = results["mean_test_score"][self.best_index_]
        self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(base).set_params(**clone(self.best_params_, safe=False))
            start = time.time()
            self.best_estimator_.fit(X, y)
            self.refit_time_ = time.time() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorer
        self.cv_results_ = results
        return self

    def _delegated(self, params: dict[str, Any]) -> bool:
        """Whether ``fit`` is ``GridSearchCV.fit`` unchanged (see the class)."""
        return (
            _classifier(self.estimator, self.param_grid) is None
            or isinstance(self.scoring, list | tuple | set | dict)
            or self.n_jobs not in (None, 1)
            or bool(set(params) - {"groups"})
            or bool(get_config().get("enable_metadata_routing", False))
        )

    def _evaluate_split(self, base, candidates, scorer, X_train, y_train, X_test, y_test):
        """Every candidate fitted on one split and scored: ``_fit_and_score``'s records."""
        front, X_fit, front_time = None, X_train, 0.0
        if isinstance(base, Pipeline) and len(base.steps) > 1:  # fitted once, shared
            start = time.time()
            front = clone(base[:-1])
            X_fit = front.fit_transform(X_train, y_train)
            front_time = (time.time() - start) / len(candidates)
        runs = []
        for params in candidates:
            start = time.time()
            estimator = clone(base).set_params(**clone(params, safe=False))
            model = _classifier(estimator, {})
            if front is not None:
                estimator.steps = [*front.steps, estimator.steps[-1]]
            run = _Candidate(estimator, model, model._plan(X_fit, y_train))
            run.fit_time = front_time + time.time() - start
            runs.append(run)
        groups: dict[Any, list[_Candidate]] = defaultdict(list)
        for run in runs:
            groups[_population_key(run.plan)].append(run)
        populations = [group for key, group in groups.items() if key and len(group) > 1]
        alone = [run for key, group in groups.items() if not (key and len(group) > 1)
                 for run in group]  # fmt: skip
        workers = min(usable_cores(), len(populations))
        if workers > 1:  # one thread per population, populations side by side
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for done in [pool.submit(self._train_population, p, 1) for p in populations]:
                    done.result()
        else:  # the engine spreads the one population over the cores
            for population in populations:
                self._train_population(population)
        for run in alone:
            self._train_alone(run)
        return [self._score(run, scorer, X_train, y_train, X_test, y_test) for run in runs]

    def _train_population(self, members: list[_Candidate], threads: int | None = None) -> None:
        """Train ``members`` (one population key) at once on ``threads`` threads (default:
        the usable cores); if the engine refuses them, one by one."""
        from initlab.engine.population import train_population

        first = members[0].plan
        start = time.time()
        try:
            result = train_population(
                first.network,
                [run.plan.start for run in members],
                first.X,
                first.Y,
                optimizer=first.optimizer,
                learning_rate=np.array([run.plan.optimizer.learning_rate for run in members]),
                backend="compiled",
                threads=threads,
                epochs=first.epochs,
                batch_size=first.batch,
                rng=[np.random.default_rng(run.plan.shuffle_seed) for run in members],
            )
        except (ImportError, ValueError, MemoryError):  # e.g. numba missing, too many models
            for run in members:
                self._train_alone(run)
            return
        share = (time.time() - start) / len(members)
        for i, run in enumerate(members):
            start = time.time()
            run.model._trained(run.plan, result.params[i], result.history(i))
            run.fit_time += share + time.time() - start

    def _train_alone(self, run: _Candidate) -> None:
        """Train one candidate as its ``fit`` does, recording a failure per ``error_score``."""
        start = time.time()
        try:
            run.model._trained(run.plan, *_train_one(run.plan))
        except Exception:
            if self.error_score == "raise":
                raise
            run.error = traceback.format_exc()
        run.fit_time += time.time() - start

    def _score(self, run: _Candidate, scorer, X_train, y_train, X_test, y_test) -> dict[str, Any]:
        """The record ``GridSearchCV`` keeps of one fit: scores, times, error."""
        record: dict[str, Any] = {
            "fit_time": run.fit_time,
            "n_test_samples": len(y_test) if y_test is not None else len(X_test),
            "fit_error": run.error,
        }
        start = time.time()
        if run.error is None:
            record["test_scores"] = self._one_score(scorer, run.estimator, X_test, y_test)
            if self.return_train_score:
                record["train_scores"] = self._one_score(scorer, run.estimator, X_train, y_train)
        else:
            record["test_scores"] = self.error_score
            if self.return_train_score:
                record["train_scores"] = self.error_score
        record["score_time"] = time.time() - start if run.error is None else 0.0
        return record

    def _one_score(self, scorer, estimator, X, y) -> float:
        """``scorer(estimator, X, y)`` as one number (a failure per ``error_score``)."""
        try:
            score = scorer(estimator, X, y)
        except Exception:
            if self.error_score == "raise":
                raise
            warnings.warn(
                "Scoring failed. The score on this train-test partition for these parameters "
                f"will be set to {self.error_score}. Details: \n{traceback.format_exc()}",
                UserWarning,
                stacklevel=2,
            )
            return self.error_score
        if isinstance(score, dict):
            raise ValueError(
                "InitGridSearchCV: scoring returned a dict (multi-metric scoring); give "
                "scoring as a list or dict of scorers, which GridSearchCV.fit evaluates"
            )
        if hasattr(score, "item"):
            score = score.item()
        if not isinstance(score, numbers.Number):
            raise ValueError(
                f"scoring must return a number, got {score!r} ({type(score).__name__})"
            )
        return score


def _classifier(estimator: Any, grid: Any) -> InitMLPClassifier | None:
    """The :class:`InitMLPClassifier` the search trains in populations: ``estimator``
    itself, or the last step of a ``Pipeline`` when every parameter of the ``grid`` is
    that step's; ``None`` otherwise (a subclass overriding ``fit`` included)."""
    if isinstance(estimator, Pipeline) and estimator.steps:
        name, last = estimator.steps[-1]
        grids = grid if isinstance(grid, list | tuple) else [grid]
        if not all(key.startswith(f"{name}__") for g in grids for key in g):
            return None
        estimator = last
    if isinstance(estimator, InitMLPClassifier) and type(estimator).fit is InitMLPClassifier.fit:
        return estimator
    return None


def _population_key(plan: _Plan) -> tuple | None:
    """What candidates of one population share (``None``: not trained on the engine).

    The architecture, the optimizer's hyper-parameters but the step size, the
    batch size and epochs (each model is shuffled by its own seed)."""
    network, optimizer = plan.network, plan.optimizer
    if not on_engine(network, optimizer):
        return None
    hyper = tuple(
        (f.name, getattr(optimizer, f.name))
        for f in fields(optimizer)
        if f.init and f.name != "learning_rate"
    )
    return (
        tuple(network.layer_sizes),
        tuple(network.activations),
        network.output,
        type(optimizer),
        hyper,
        plan.batch,
        plan.epochs,
        plan.X.shape,
    )
