# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration: numpydoc API pages from the docstrings, sphinx-gallery examples."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("SKFAIRNN_EXAMPLES_QUICK", "1")  # gallery builds in minutes

project = "skfairnn"
author = "skfairnn developers"
copyright = "2026, skfairnn developers"
release = __import__("skfairnn").__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "fairlearn": ("https://fairlearn.org/main", None),
    "torch": ("https://pytorch.org/docs/stable", None),
}
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "reference_url": {"skfairnn": None},
}
