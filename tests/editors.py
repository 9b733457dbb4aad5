"""A submitted notebook as other editors save it, for preflight's tests: each function takes the notebook's JSON
(a dict, as Jupyter saved it) and returns a new dict the way that editor, or a student, would write it.

What each imitates (from notebooks those editors write): VS Code keeps or drops nbgrader metadata, adds
`metadata.vscode`, writes nbformat 4.4 without cell ids or 4.5 with its own ids; Colab drops nbgrader metadata,
writes nbformat 4.0 with the cell id in `metadata.id`, adds `colab` metadata and `outputId`s, and orders keys
its own way; JupyterLab gives cells new ids; students change whitespace and paste cells into a fresh notebook.
Outputs are added (and reordered) as if the notebook had been run: preflight must ignore them.
"""

from __future__ import annotations

import copy
import hashlib

def _hex(*parts: object, length: int = 12) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:length]


def _locked(cell: dict) -> bool:
    flags = cell.get("metadata", {}).get("nbgrader", {})
    return bool(flags.get("locked")) and not flags.get("solution")


def _ran(cell: dict, number: int) -> None:
    """Outputs as a run would leave them: a stream and a display, execution counts out of order."""
    if cell["cell_type"] != "code":
        return
    cell["execution_count"] = 100 - number
    cell["outputs"] = [
        {"output_type": "display_data", "data": {"text/plain": [f"<Figure {number}>"]}, "metadata": {}},
        {"output_type": "stream", "name": "stdout", "text": [f"run {number}\n"]},
    ]


def vscode(data: dict, *, keep_nbgrader: bool, minor: int) -> dict:
    notebook = copy.deepcopy(data)
    notebook["nbformat_minor"] = minor
    notebook["metadata"]["vscode"] = {"interpreter": {"hash": _hex("interpreter", length=64)}}
    notebook["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
    for number, cell in enumerate(notebook["cells"]):
        if not keep_nbgrader:
            cell["metadata"].pop("nbgrader", None)
        if cell["cell_type"] == "code":
            cell["metadata"]["vscode"] = {"languageId": "python"}
        _ran(cell, number)
        if minor < 5:
            cell.pop("id", None)
        else:
            cell["id"] = _hex("vscode", number, length=8)
    return notebook


def colab(data: dict) -> dict:
    notebook = {"nbformat": 4, "nbformat_minor": 0,
                "metadata": {"colab": {"provenance": [], "name": "hw.ipynb"},
                             "kernelspec": {"name": "python3", "display_name": "Python 3"},
                             "language_info": {"name": "python"}, "accelerator": "GPU"}}
    cells = []
    for number, cell in enumerate(data["cells"]):
        new = {"cell_type": cell["cell_type"], "source": cell["source"],
               "metadata": {"id": _hex("colab", number), "colab": {"base_uri": "https://localhost:8080/"}}}
        if cell["cell_type"] == "code":
            _ran(new, number)
            new["metadata"]["outputId"] = _hex("output", number, length=36)
            new["outputs"].reverse()
        cells.append(dict(sorted(new.items(), reverse=True)))
    notebook["cells"] = cells
    return dict(sorted(notebook.items(), reverse=True))


def jupyterlab(data: dict) -> dict:
    notebook = copy.deepcopy(data)
    for number, cell in enumerate(notebook["cells"]):
        cell["id"] = f"{_hex('lab', number, length=8)}-{_hex('lab-b', number, length=4)}"
        cell["metadata"]["trusted"] = True
        _ran(cell, number)
    return notebook


def whitespace_changed(data: dict) -> dict:
    """No metadata, and the locked and test cells (restored from the release anyway) with Windows line endings,
    trailing spaces and extra blank lines; answer cells are left as they are."""
    notebook = without_metadata(data)
    for original, cell in zip(data["cells"], notebook["cells"]):
        if _locked(original):
            text = "".join(cell["source"])
            cell["source"] = "\n\n" + text.replace(" ", "  ").replace("\n", " \t\r\n") + "\n\n"
    return notebook


def without_metadata(data: dict) -> dict:
    """Every cell's metadata deleted, cell ids too; the notebook's own metadata kept."""
    notebook = copy.deepcopy(data)
    for cell in notebook["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)
    notebook["nbformat_minor"] = 4
    return notebook


def pasted_into_fresh_notebook(data: dict) -> dict:
    """The cells' text pasted into a new notebook, run, with the editor's own metadata."""
    notebook = {"nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                            "language": "python"}},
                "cells": []}
    for number, cell in enumerate(data["cells"]):
        new = {"cell_type": cell["cell_type"], "id": _hex("fresh", number, length=8), "metadata": {},
               "source": "".join(cell["source"])}
        _ran(new, number)
        notebook["cells"].append(new)
    return notebook


EDITORS = {
    "vscode_4.4_stripped": lambda data: vscode(data, keep_nbgrader=False, minor=4),
    "vscode_4.5_kept": lambda data: vscode(data, keep_nbgrader=True, minor=5),
    "colab": colab,
    "jupyterlab": jupyterlab,
    "whitespace_changed": whitespace_changed,
    "without_metadata": without_metadata,
    "pasted_into_fresh_notebook": pasted_into_fresh_notebook,
}
KEEPS_NBGRADER = {"vscode_4.5_kept", "jupyterlab"}
