"""``initlab app``: a live lab in the browser, served on the local machine.

* :mod:`~initlab.app.config`: one training's checked configuration, to and from a URL;
* :mod:`~initlab.app.training`: every initializer trained at once on the fast engine,
  in cancellable steps that report progress and snapshots;
* :mod:`~initlab.app.views`: what is drawn for a snapshot (decision grid, per-layer
  histograms, flags), as arrays;
* :mod:`~initlab.app.upload`: an uploaded CSV, checked as the command line checks a file;
* :mod:`~initlab.app.record`: the run's ``results.json``;
* :mod:`~initlab.app.page` and :mod:`~initlab.app.server`: the Bokeh document and server
  (the optional extra ``initlab[app]``); only these import Bokeh.
"""
