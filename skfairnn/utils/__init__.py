# SPDX-License-Identifier: BSD-3-Clause
"""Internal helpers (not public API)."""
