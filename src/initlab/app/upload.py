"""An uploaded CSV file, checked exactly as ``initlab train --data csv`` checks a file.

The bytes are written to a private temporary file and read by the ``csv`` dataset
(:func:`initlab.datasets.from_csv`: the standard library's CSV reader and ``float``;
nothing is evaluated or imported), then the file is removed. Messages name the file as
the user uploaded it, never the temporary path.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from initlab.datasets import LabelledDataset, load_dataset

__all__ = ["UPLOAD_LIMIT", "load_upload"]

#: the largest CSV upload, in bytes (1 MiB: about 20 000 rows of 5 numbers)
UPLOAD_LIMIT = 1 << 20


def _shown_name(filename: str) -> str:
    """The uploaded file's base name, printable, at most 80 characters."""
    name = Path(filename.replace("\\", "/")).name or "upload.csv"
    name = "".join(ch if ch.isprintable() else "?" for ch in name)
    return name if len(name) <= 80 else name[:77] + "..."


def load_upload(
    content: bytes,
    filename: str,
    label: str,
    *,
    seed: int = 0,
    standardize: bool = False,
) -> LabelledDataset:
    """The dataset in the uploaded CSV ``content`` (its ``label`` column holds the classes),
    split and standardized as :func:`initlab.datasets.load_dataset` does.

    Raises:
        ValueError: a file over :data:`UPLOAD_LIMIT` bytes, one that is not UTF-8 CSV
            text, or one the ``csv`` dataset refuses (no such label column, missing or
            non-numeric values, a single class, ...); the message names the file.
    """
    shown = _shown_name(filename)
    if len(content) > UPLOAD_LIMIT:
        raise ValueError(
            f"{shown!r} is {len(content):,} bytes; uploads are limited to "
            f"{UPLOAD_LIMIT:,} bytes (1 MiB)"
        )
    if b"\0" in content:
        raise ValueError(f"{shown!r} is not a CSV file (it holds binary data)")
    with tempfile.TemporaryDirectory(prefix="initlab-upload-") as folder:
        path = os.path.join(folder, "upload.csv")
        with open(path, "wb") as fh:
            fh.write(content)
        try:
            return load_dataset(
                "csv", seed=seed, standardize_features=standardize, path=path, label=label
            )
        except ValueError as exc:
            message = str(exc).replace(repr(path), repr(shown)).replace(path, shown)
            message = message.replace("dataset 'csv'", repr(shown))
            raise ValueError(message) from None
