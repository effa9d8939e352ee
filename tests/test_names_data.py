"""The 1990 census surnames shipped with the package, and their fixed 80/10/10 split."""
import hashlib

import pytest

from minigrad import load_names
from minigrad.datasets import NAMES_SPLITS


def test_all_names():
    names = load_names()
    assert len(names) == 88799 == len(set(names))
    assert names[:3] == ["smith", "johnson", "williams"]  # most frequent first
    assert all(n.isascii() and n.isalpha() and n.islower() for n in names)
    assert sorted({len(n) for n in names})[0] == 2 and max(len(n) for n in names) == 13
    text = "".join(n + "\n" for n in names).encode("ascii")  # as described in SURNAMES_LICENSE.txt
    assert hashlib.sha256(text).hexdigest() == "4ec7babc98a4ed0347b97fe26d7df34520c577c4e587abf8924e8ddd6939a01d"


def test_fixed_split():
    parts = {split: load_names(split) for split in NAMES_SPLITS}
    assert [len(parts[s]) for s in NAMES_SPLITS] == [71039, 8879, 8881]
    together = [n for s in NAMES_SPLITS for n in parts[s]]
    assert sorted(together) == sorted(load_names())  # each name in exactly one part
    assert load_names("val") == parts["val"]  # the same on every call
    assert parts["train"][:3] == ["masher", "cibulskas", "tuzzo"]  # and on every machine


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be None.*train, val, test, got 'valid'"):
        load_names("valid")
