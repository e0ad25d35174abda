"""The catalog: master schema (pydantic) and the loader of built-in master files."""

from .loader import Catalog, CatalogError, UnknownMasterError, builtin_data_dir, load_catalog, load_master_file
from .models import CATEGORIES, CATEGORY_IDS, Category, Example, Localized, Master, Recipe, SamplingParams, check_category

__all__ = [
    "CATEGORIES",
    "CATEGORY_IDS",
    "Catalog",
    "CatalogError",
    "Category",
    "Example",
    "Localized",
    "Master",
    "Recipe",
    "SamplingParams",
    "UnknownMasterError",
    "builtin_data_dir",
    "check_category",
    "load_catalog",
    "load_master_file",
]
