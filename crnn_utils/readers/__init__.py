"""Readers of other tools' layouts: MJSynth, labelled folders and label files (text, CSV, JSON, MATLAB), LMDB, IAM.

Every reader gives Records (absolute image path, label) and counts in a PrepareStats what it could not use.
"""
from ..records import DUPLICATE, MALFORMED, SPLITS, PrepareStats, Record
from .folder import DETECTORS, DONT_CARE, NO_LABEL, Plan, folder_plan, read_folder
from .iam import IAM_BAD_SEGMENTATION, IAM_WORDS
from .label_files import LABEL_FILES, find_label_file
from .listed import ListedPaths
from .lmdb import LMDB_FILE, NO_IMAGE, unpack_lmdb
from .mjsynth import IN_EARLIER_SPLIT, check_mjsynth_dir, mjsynth_split_of, read_mjsynth
from .names import label_from_file_name
from .paths import ARCHIVE_SUFFIXES
from .rows import LABEL_COLUMNS, PATH_COLUMNS

__all__ = [
    "ARCHIVE_SUFFIXES", "DETECTORS", "DONT_CARE", "DUPLICATE", "IAM_BAD_SEGMENTATION", "IAM_WORDS", "IN_EARLIER_SPLIT",
    "LABEL_COLUMNS", "LABEL_FILES", "LMDB_FILE", "MALFORMED", "NO_IMAGE", "NO_LABEL", "PATH_COLUMNS", "SPLITS",
    "ListedPaths", "Plan", "PrepareStats", "Record", "check_mjsynth_dir", "find_label_file", "folder_plan",
    "label_from_file_name", "mjsynth_split_of", "read_folder", "read_mjsynth", "unpack_lmdb",
]
