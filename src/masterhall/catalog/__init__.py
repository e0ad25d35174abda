"""The catalog: master schema (pydantic) and the loader of built-in master files."""

from .loader import Catalog, CatalogError, UnknownMasterError, builtin_data_dir, load_catalog, load_master_file
from .models import CATEGORIES, CATEGORY_IDS, Category, Example, Localized, Master, SamplingParams

__all__ = [
    "CATEGORIES",
    "CATEGORY_IDS",
    "Catalog",
    "CatalogError",
    "Category",
    "Example",
    "Localized",
    "Master",
    "SamplingParams",
    "UnknownMasterError",
    "builtin_data_dir",
    "load_catalog",
    "load_master_file",
]
