"""``initlab app``: serve the live lab on this machine and open it in the browser.

Thin: checks its options, starts :func:`initlab.app.server.serve`, prints the URL.
Bokeh is the optional extra ``initlab[app]``; without it the command says how to
install it (one line, exit 2).
"""

from __future__ import annotations

import sys

import click


def _warn(message: str) -> None:
    click.echo(f"initlab: warning: {message}", err=True)


@click.command("app")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but this machine's loopback (127.0.0.1, ::1, "
    "localhost) lets other machines use the app, with a warning.",
)
@click.option("--no-browser", is_flag=True, help="Print the URL but do not open a browser.")
@click.option(
    "--allow-custom-code",
    is_flag=True,
    help="Accept custom initializers written package.module:function (they import and run "
    "Python code on this machine); refused by default.",
)
def app(port: int, host: str, no_browser: bool, allow_custom_code: bool) -> None:
    """Start the live lab: a local web page to train, compare and inspect initializations.

    The page trains every chosen initializer at once on the fast engine and shows, as
    it trains, the cost curves, the decision boundaries (2-D data), per-layer
    activation and gradient histograms with a slider over snapshots, and the flags in
    plain words. It opens on the course's experiment, already trained. Its address
    reproduces the configuration; results.json and report.html download. Uploaded CSV
    files are limited to 1 MiB and only read as numbers. Stop with Ctrl-C.
    """
    try:
        import bokeh  # noqa: F401
    except ImportError:
        raise click.UsageError(
            "initlab app needs Bokeh, the optional extra: pip install 'initlab[app]'"
        ) from None
    from initlab.app.server import PortInUse, is_loopback, serve

    if not host.strip():
        raise click.UsageError("--host is empty; give an address such as 127.0.0.1")
    if not is_loopback(host):
        _warn(
            f"listening on {host}, not only on this machine: anyone who can reach it can use "
            "the app" + (" and run code on it (--allow-custom-code)" if allow_custom_code else "")
        )

    def started(url: str) -> None:
        click.echo(f"initlab app: serving on {url}  (Ctrl-C to stop)")
        sys.stdout.flush()

    try:
        serve(
            host, port, open_browser=not no_browser, allow_custom_code=allow_custom_code,
            on_start=started,
        )  # fmt: skip
    except PortInUse as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"--host {host!r}: {exc}") from None
