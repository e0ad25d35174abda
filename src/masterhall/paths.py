"""Where the hall keeps its files: the config file, the data folder and the cache folder.

This is the only module that reads the path variables of the environment:

- ``MASTERHALL_CONFIG``: the TOML config file (default ``<user config dir>/masterhall/config.toml``);
- ``MASTERHALL_DATA_DIR``: the data folder, home of the default SQLite database (default
  ``platformdirs.user_data_dir("masterhall")``);
- ``MASTERHALL_CACHE_DIR``: the cache folder, home of the assembled embedded model and of the
  Finder's vectors (default ``platformdirs.user_cache_dir("masterhall")``).

Every other ``MASTERHALL_*`` variable is a setting (:mod:`masterhall.config`).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "masterhall"


def config_file() -> Path:
    """The TOML config file's path (it need not exist)."""
    env = os.environ.get("MASTERHALL_CONFIG")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir(create: bool = True) -> Path:
    """The data folder; created when ``create`` (raises ``OSError`` if it cannot be)."""
    env = os.environ.get("MASTERHALL_DATA_DIR")
    folder = Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME))
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def cache_dir() -> Path:
    """The cache folder (not created here: the code that writes into it does that)."""
    env = os.environ.get("MASTERHALL_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME))
